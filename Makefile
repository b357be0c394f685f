.PHONY: demo test qa fmt messages screenshots

demo:   ## install everything, seed the demo program, run server + worker on http://127.0.0.1:8000
	scripts/demo

test:   ## install everything and run the whole suite (SQLite, PostgreSQL, Chromium, qa, deploy check)
	scripts/test

qa:     ## ruff, mypy --strict, makemigrations --check, translations compiled
	scripts/bootstrap && scripts/qa

fmt:    ## format and autofix
	.venv/bin/ruff format . && .venv/bin/ruff check --fix .

messages: ## extract and compile translations (en, de, bg)
	PARTNERHUB_MODE=test .venv/bin/python manage.py makemessages -l de -l bg --no-obsolete --add-location file \
	  --ignore '.venv/*' --ignore '.tools/*' --ignore 'var/*' --ignore 'tests/*' --ignore 'bench/*' --ignore 'docs/*'
	PARTNERHUB_MODE=test .venv/bin/python manage.py compilemessages --ignore '.venv/*' --ignore '.tools/*'

screenshots: ## refresh docs/screenshots/ from the browser tests
	SCREENSHOT_DIR=docs/screenshots .venv/bin/pytest -q -p no:cacheprovider -m browser tests/browser
