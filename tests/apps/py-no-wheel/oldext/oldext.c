/* Needs libyaml's header, which the builder has only with [build] packages = ["libyaml-dev"] (as PyYAML's C loader). */
#include <Python.h>
#include <yaml.h>

static PyObject *version(PyObject *self, PyObject *args) { return PyUnicode_FromString(yaml_get_version_string()); }
static PyMethodDef methods[] = {{"version", version, METH_NOARGS, 0}, {0}};
static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "oldext", 0, -1, methods};
PyMODINIT_FUNC PyInit_oldext(void) { return PyModule_Create(&module); }
