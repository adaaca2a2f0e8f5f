import nativepkg

print(nativepkg.__name__)
