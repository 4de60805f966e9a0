/* The calls from Python into C on every step, as a CPython extension module: arrays' addresses
 * and the hot kernels' calls. Through ctypes a NumPy array's address costs ~0.45 us (its view of
 * the buffer) and a call ~1.4 us (each argument converted by its argtype, then libffi); here
 * ~0.03 and ~0.5. The MLP step of bench_autograd.py passes 52 pointers in 17 such calls. Built
 * apart from the kernels, where Python's and NumPy's headers are found, and handed their
 * addresses (native/__init__.py); without it, ctypes makes the calls. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#define NPY_NO_DEPRECATED_API NPY_1_7_API_VERSION
#include <numpy/ndarraytypes.h>
#include <stdint.h>
#include <string.h>

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

/* One argument as ctypes' argtypes take it: an integer, a pointer (an address or None), a
 * float, or a char (a one-byte bytes). */
typedef union {
    int64_t i;
    void *p;
    double f;
    char c;
} arg;

/* The n arguments by their kinds ('i' integer, 'p' pointer, 'f' float, 'c' char) into v;
 * 0 with a TypeError or OverflowError set if one is not of its kind. */
static int parse(const char *name, const char *kinds, PyObject *const *args, Py_ssize_t n,
                 arg *v) {
    if ((size_t)n != strlen(kinds)) {
        PyErr_Format(PyExc_TypeError, "%s takes %zd arguments, got %zd", name, strlen(kinds), n);
        return 0;
    }
    for (Py_ssize_t k = 0; k < n; k++) {
        PyObject *a = args[k];
        switch (kinds[k]) {
        case 'i': v[k].i = PyLong_AsLongLong(a); break;
        case 'p': v[k].p = a == Py_None ? NULL : PyLong_AsVoidPtr(a); break;
        case 'f': v[k].f = PyFloat_AsDouble(a); break;
        case 'c':
            if (!PyBytes_Check(a) || PyBytes_GET_SIZE(a) != 1) {
                PyErr_Format(PyExc_TypeError, "%s: argument %zd must be one byte", name, k + 1);
                return 0;
            }
            v[k].c = PyBytes_AS_STRING(a)[0];
            break;
        }
        if (PyErr_Occurred())
            return 0;
    }
    return 1;
}

/* A kernel's wrapper: its address (bound from Python), then a METH_FASTCALL function that
 * parses its arguments and calls it without the GIL (as ctypes does: over_batch's threads run
 * at once). RET is int or void. */
#define KERNEL(NAME, KINDS, RET, PARAMS, ...)                                                   \
    static RET(*p_##NAME) PARAMS;                                                              \
    static PyObject *w_##NAME(PyObject *module, PyObject *const *args, Py_ssize_t n) {         \
        arg v[16];                                                                             \
        if (p_##NAME == NULL)                                                                  \
            return PyErr_Format(PyExc_RuntimeError, #NAME " is not bound");                    \
        if (!parse(#NAME, KINDS, args, n, v))                                                  \
            return NULL;                                                                       \
        RESULT_##RET(p_##NAME(__VA_ARGS__))                                                    \
    }
#define RESULT_int(CALL)                                                                       \
    int r;                                                                                     \
    Py_BEGIN_ALLOW_THREADS r = CALL;                                                           \
    Py_END_ALLOW_THREADS return PyLong_FromLong(r);
#define RESULT_void(CALL)                                                                      \
    Py_BEGIN_ALLOW_THREADS CALL;                                                               \
    Py_END_ALLOW_THREADS Py_RETURN_NONE;

KERNEL(sj_arith, "iippfp", int, (int, int64_t, void *, void *, float, void *), (int)v[0].i,
       v[1].i, v[2].p, v[3].p, (float)v[4].f, v[5].p)
KERNEL(sj_bias_relu, "iippi", void, (int64_t, int64_t, void *, void *, int), v[0].i, v[1].i,
       v[2].p, v[3].p, (int)v[4].i)
KERNEL(sj_relu_bias_grad, "iipppp", int, (int64_t, int64_t, void *, void *, void *, void *),
       v[0].i, v[1].i, v[2].p, v[3].p, v[4].p, v[5].p)
KERNEL(sj_softmax_xent, "iipppp", void, (int64_t, int64_t, void *, void *, void *, void *),
       v[0].i, v[1].i, v[2].p, v[3].p, v[4].p, v[5].p)
KERNEL(sj_gemm_list, "pip", int, (void *, int64_t, void *), v[0].p, v[1].i, v[2].p)
KERNEL(dnnl_sgemm, "cciiifpipifpi", int,
       (char, char, int64_t, int64_t, int64_t, float, void *, int64_t, void *, int64_t, float,
        void *, int64_t),
       v[0].c, v[1].c, v[2].i, v[3].i, v[4].i, (float)v[5].f, v[6].p, v[7].i, v[8].p, v[9].i,
       (float)v[10].f, v[11].p, v[12].i)

#define ENTRY(NAME) {#NAME, (PyCFunction)(void (*)(void))w_##NAME, METH_FASTCALL, NULL},
#define BINDING(NAME)                                                                          \
    if (strcmp(name, #NAME) == 0) {                                                            \
        memcpy(&p_##NAME, &fn, sizeof fn); /* an address as a function pointer */             \
        Py_RETURN_NONE;                                                                        \
    }

/* bind(name, address): the kernel `name` is at `address`; bind(numpy.ndarray): the type that
 * address() accepts (subclasses too). */
static PyObject *bind(PyObject *module, PyObject *const *args, Py_ssize_t n) {
    if (n == 1 && PyType_Check(args[0])) {
        Py_INCREF(args[0]);
        Py_XSETREF(ndarray, (PyTypeObject *)args[0]);
        Py_RETURN_NONE;
    }
    const char *name = n == 2 ? PyUnicode_AsUTF8(args[0]) : NULL;
    void *fn = name ? PyLong_AsVoidPtr(args[1]) : NULL;
    if (fn == NULL) {
        if (!PyErr_Occurred())
            PyErr_SetString(PyExc_TypeError, "bind(numpy.ndarray) or bind(name, address)");
        return NULL;
    }
    BINDING(sj_arith) BINDING(sj_bias_relu) BINDING(sj_relu_bias_grad) BINDING(sj_softmax_xent)
    BINDING(sj_gemm_list) BINDING(dnnl_sgemm)
    return PyErr_Format(PyExc_KeyError, "no kernel %s here", name);
}

static PyMethodDef methods[] = {
    {"address", address, METH_O, "The address of a NumPy array's first element."},
    {"bind", (PyCFunction)(void (*)(void))bind, METH_FASTCALL, "Hand in a type or a kernel."},
    ENTRY(sj_arith) ENTRY(sj_bias_relu) ENTRY(sj_relu_bias_grad) ENTRY(sj_softmax_xent)
    ENTRY(sj_gemm_list) ENTRY(dnnl_sgemm)
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_pycalls", NULL, -1, methods};

PyMODINIT_FUNC PyInit__pycalls(void) { return PyModule_Create(&module); }
