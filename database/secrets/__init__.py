"""Secrets at rest: the encryption envelope, the keyring, the formats the platform's secrets come
in, batch encryption and rotation, and the deploy checks for keys."""
