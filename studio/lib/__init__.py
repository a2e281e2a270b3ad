"""Plumbing every app shares: serving media, building ZIPs, the clip signer.

Nothing here imports an app's views or API, and no app imports another
app's views: what two apps need lives here or in a service module.
"""
