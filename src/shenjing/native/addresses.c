/* NumPy arrays' addresses for the kernels' pointer arguments, as a CPython extension module:
 * ~0.03 us an array, where ctypes' view of its buffer costs ~0.45 (the MLP step of
 * bench_autograd.py passes 52 pointers). Built apart from the kernels, where Python's and
 * NumPy's headers are found (native/__init__.py); without it, ctypes gives the addresses. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#define NPY_NO_DEPRECATED_API NPY_1_7_API_VERSION
#include <numpy/ndarraytypes.h>

static PyTypeObject *ndarray; /* numpy.ndarray, handed in by bind() */

/* address(a): the address of a's first element, as a.ctypes.data gives it; None for None. */
static PyObject *address(PyObject *module, PyObject *a) {
    if (a == Py_None)
        Py_RETURN_NONE;
    if (ndarray == NULL || !PyObject_TypeCheck(a, ndarray))
        return PyErr_Format(PyExc_TypeError, "address() takes a NumPy array or None, got %s",
                            Py_TYPE(a)->tp_name);
    return PyLong_FromVoidPtr(PyArray_DATA((PyArrayObject *)a));
}

/* bind(numpy.ndarray): the type address() accepts (subclasses too). */
static PyObject *bind(PyObject *module, PyObject *type) {
    if (!PyType_Check(type))
        return PyErr_Format(PyExc_TypeError, "bind() takes numpy.ndarray");
    Py_INCREF(type);
    Py_XDECREF(ndarray);
    ndarray = (PyTypeObject *)type;
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"address", address, METH_O, "The address of a NumPy array's first element."},
    {"bind", bind, METH_O, "Hand in numpy.ndarray."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_addresses", NULL, -1, methods};

PyMODINIT_FUNC PyInit__addresses(void) { return PyModule_Create(&module); }
