"""The providers' own verifiers, run over the cases sdk_crosscheck.rs generated.

Reads a JSON list of cases from the file named in argv[1]; prints a JSON list of
{"accepted": bool, "error": str} in the same order. Uses paddle-python-sdk's Verifier and
standardwebhooks' Webhook exactly as their READMEs show, with the wall clock (neither takes a
"now" argument).
"""

import json
import sys

from paddle_billing.Notifications import Secret, Verifier
from standardwebhooks.webhooks import Webhook


class PaddleRequest:
    """The shape Verifier.verify reads: .headers.get(name) and .body (bytes)."""

    def __init__(self, headers, body):
        self.headers = headers
        self.body = body


def paddle(case):
    verifier = Verifier(maximum_variance=case["tolerance"])
    request = PaddleRequest(case["headers"], case["body"].encode())
    secrets = [Secret(s) for s in case["secrets"]]
    # Verifier returns False or raises (ConnectionRefusedError, ValueError) on refusal.
    return verifier.verify(request, secrets) is True


def standard_webhooks(case):
    # One Webhook per secret: the library takes one; rotation = try each.
    last_error = None
    for secret in case["secrets"]:
        try:
            Webhook(secret).verify(case["body"], case["headers"])
            return True
        except Exception as error:  # noqa: BLE001 - any exception is a refusal
            last_error = error
    raise last_error


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        cases = json.load(f)
    results = []
    for case in cases:
        verify = {"paddle": paddle, "standard_webhooks": standard_webhooks}[case["provider"]]
        try:
            results.append({"accepted": bool(verify(case)), "error": ""})
        except Exception as error:  # noqa: BLE001 - any exception is a refusal
            results.append({"accepted": False, "error": f"{type(error).__name__}: {error}"})
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    main()
