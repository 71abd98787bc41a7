"""Who may use the portal and what each may do, outside every blueprint (several need it):

- policy.py: the access table (one row per view, default deny) and the owner checks;
- accounts.py: creating, disabling, removing and authenticating accounts;
- sessions.py: server-side sign-in sessions (signing out ends them everywhere);
- throttle.py: sign-in limits per account and per known browser;
- sign_on.py: loading the signed-in user, header sign-on behind a trusted proxy, safe ``next=``;
- forms.py: the account forms the sign-in pages and the admin pages share.
"""
