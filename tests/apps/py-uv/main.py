import six

print(f"six {six.__version__} from the uv.lock")
