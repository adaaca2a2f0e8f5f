print("hello from main.py, chosen by s2i.toml")
