"""SIP2 (3M Standard Interchange Protocol 2.00): codec, client, and a server over the local circulation."""
