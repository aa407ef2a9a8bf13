import json
import sys

from app import greeting


def main() -> None:
    print(json.dumps({"greeting": greeting.text(), "python": sys.version_info[:2]}))


if __name__ == "__main__":
    main()
