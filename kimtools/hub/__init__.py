"""Team mode: kimtools on JupyterHub (``kimtools hub``). Logins through the city's directory (LDAP), its single
sign-on (OpenID Connect) or the hub's own accounts; per login a role and the kommunen it holds (``zugriff.toml``,
:mod:`.access`); each login's server reads only its kommunen (the scoped reader, :mod:`kimtools.store`), and the
steering committee's members get the dashboards without JupyterLab or code (:mod:`.authorizer`).
"""
