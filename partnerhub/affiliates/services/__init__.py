"""Every write of affiliate tracking (DESIGN §7), one module per subject:

- :mod:`.accounts` — applying as affiliate, the operator's review, a partner's affiliate account;
- :mod:`.tracking` — recording a click on a referral link, the attribution cookie, the daily salts;
- :mod:`.binding` — remembering who arrived through a link and binding their new organisation;
- :mod:`.recommend` — emailing the referral link to someone ("Recommend").
"""
