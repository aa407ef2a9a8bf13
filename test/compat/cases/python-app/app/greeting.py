def text() -> str:
    return "hello from python"
