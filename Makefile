.PHONY: demo test qa fmt messages serve worker

demo:   ## install everything, seed the demo program, run server + worker on http://127.0.0.1:8000
	scripts/demo

test:   ## install everything and run the whole suite (SQLite, PostgreSQL, Chromium, qa, deploy check)
	scripts/test

qa:     ## ruff, mypy --strict, makemigrations --check, translations compiled
	scripts/bootstrap && scripts/qa

fmt:    ## format and autofix
	.venv/bin/ruff format . && .venv/bin/ruff check --fix .

messages: ## extract and compile translations (en, de, bg)
	cd partnerhub && ../.venv/bin/python ../manage.py makemessages -l de -l bg --no-obsolete --add-location file \
	  && ../.venv/bin/python ../manage.py compilemessages
