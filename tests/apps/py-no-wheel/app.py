import oldext

if __name__ == "__main__":
    print(oldext.version())
