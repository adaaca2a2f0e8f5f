#include <Python.h>

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "nativepkg", NULL, -1, NULL};

PyMODINIT_FUNC PyInit_nativepkg(void) { return PyModule_Create(&module); }
