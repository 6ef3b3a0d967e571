"""Local stand-ins for the outside services (Twilio, …) that the real SDKs talk to."""
