/* The C parts of the registry files (callguard/registry/format.py): membership probes over a
 * file's memory map, and the NANP encoder. Both have pure-Python/numpy equivalents (probe.py,
 * builder.py) used when this optional extension is not built; tests check they agree exactly.
 *
 * A probe holds a buffer on the file's mmap for its lifetime and answers `e164 in probe` in one
 * C call: no copy of the file, no Python objects per lookup. probe.py has the same probes in pure
 * Python, used when this extension is not built; tests check both agree on any input.
 *
 *   NanpProbe(buffer, directory_offset, data_offset): "+1" and 10 digits. The directory has one
 *   little-endian uint64 per NPA-NXX exchange (10^6 of them): (offset << 16) | count. count 0:
 *   no number; count >= 625: a 1250-byte bitmap of the exchange's 10 000 lines at data + offset
 *   (bit i of byte i / 8, least significant first); else a sorted array of count uint16 lines.
 *   SortedProbe(buffer, offset, count): "+" and up to 15 digits, looked up in a sorted array of
 *   count little-endian uint64 keys (the digits read as an integer).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

#define NANP_EXCHANGES 1000000
#define BITMAP_THRESHOLD 625
#define BITMAP_BYTES 1250

static uint64_t load_u64(const unsigned char *p) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = (v << 8) | p[i];
    return v;
}

static unsigned load_u16(const unsigned char *p) { return (unsigned)p[0] | ((unsigned)p[1] << 8); }

/* The digits of s after a leading '+', as an integer; -1 if s is not '+' and 1..15 digits (E.164's
 * longest, and well inside int64). */
static int64_t e164_key(PyObject *s, Py_ssize_t *ndigits) {
    if (!PyUnicode_Check(s)) return -1;
    Py_ssize_t len;
    const char *text = PyUnicode_AsUTF8AndSize(s, &len);
    if (text == NULL) { PyErr_Clear(); return -1; }
    if (len < 2 || len > 16 || text[0] != '+') return -1;
    int64_t key = 0;
    for (Py_ssize_t i = 1; i < len; i++) {
        char c = text[i];
        if (c < '0' || c > '9') return -1;
        key = key * 10 + (c - '0');
    }
    *ndigits = len - 1;
    return key;
}

typedef struct {
    PyObject_HEAD
    Py_buffer view;
    int has_view;
    Py_ssize_t first, second; /* NanpProbe: directory and data offsets; SortedProbe: offset and count */
} Probe;

static void probe_dealloc(Probe *self) {
    if (self->has_view) PyBuffer_Release(&self->view);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static int probe_init_common(Probe *self, PyObject *args) {
    PyObject *buffer;
    if (!PyArg_ParseTuple(args, "Onn", &buffer, &self->first, &self->second)) return -1;
    if (PyObject_GetBuffer(buffer, &self->view, PyBUF_SIMPLE) < 0) return -1;
    self->has_view = 1;
    return 0;
}

static int nanp_init(Probe *self, PyObject *args, PyObject *kwds) {
    if (probe_init_common(self, args) < 0) return -1;
    if (self->first < 0 || self->first + (Py_ssize_t)NANP_EXCHANGES * 8 > self->view.len || self->second < 0 || self->second > self->view.len) {
        PyErr_SetString(PyExc_ValueError, "directory or data outside the buffer");
        return -1;
    }
    return 0;
}

static int nanp_contains(Probe *self, PyObject *item) {
    Py_ssize_t ndigits;
    int64_t key = e164_key(item, &ndigits);
    if (key < 0 || ndigits != 11 || key / 10000000000LL != 1) return 0;
    int64_t national = key - 10000000000LL;
    const unsigned char *base = (const unsigned char *)self->view.buf;
    uint64_t entry = load_u64(base + self->first + (national / 10000) * 8);
    unsigned count = (unsigned)(entry & 0xFFFF);
    if (count == 0) return 0;
    Py_ssize_t offset = self->second + (Py_ssize_t)(entry >> 16);
    unsigned line = (unsigned)(national % 10000);
    if (count >= BITMAP_THRESHOLD) {
        if (offset + BITMAP_BYTES > self->view.len) return 0;
        return (base[offset + (line >> 3)] >> (line & 7)) & 1;
    }
    if (offset + (Py_ssize_t)count * 2 > self->view.len) return 0;
    Py_ssize_t lo = 0, hi = count;
    while (lo < hi) {
        Py_ssize_t mid = (lo + hi) / 2;
        unsigned v = load_u16(base + offset + mid * 2);
        if (v < line) lo = mid + 1; else if (v > line) hi = mid; else return 1;
    }
    return 0;
}

static int sorted_init(Probe *self, PyObject *args, PyObject *kwds) {
    if (probe_init_common(self, args) < 0) return -1;
    if (self->first < 0 || self->second < 0 || self->first + self->second * 8 > self->view.len) {
        PyErr_SetString(PyExc_ValueError, "array outside the buffer");
        return -1;
    }
    return 0;
}

static int sorted_contains(Probe *self, PyObject *item) {
    Py_ssize_t ndigits;
    int64_t key = e164_key(item, &ndigits);
    if (key < 0) return 0;
    const unsigned char *base = (const unsigned char *)self->view.buf + self->first;
    Py_ssize_t lo = 0, hi = self->second;
    uint64_t k = (uint64_t)key;
    while (lo < hi) {
        Py_ssize_t mid = (lo + hi) / 2;
        uint64_t v = load_u64(base + mid * 8);
        if (v < k) lo = mid + 1; else if (v > k) hi = mid; else return 1;
    }
    return 0;
}

/* encode_nanp(keys) -> (directory: bytearray, data: bytearray, count)
 * keys: a buffer of native int64 10-digit national numbers, sorted ascending (duplicates allowed).
 * The same bytes as builder.encode_nanp_numpy: one pass to size each exchange, one to fill. */
static PyObject *encode_nanp(PyObject *module, PyObject *arg) {
    Py_buffer view;
    if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) < 0) return NULL;
    const int64_t *keys = (const int64_t *)view.buf;
    Py_ssize_t n = view.len / (Py_ssize_t)sizeof(int64_t);
    uint32_t *counts = PyMem_Calloc(NANP_EXCHANGES, sizeof(uint32_t));
    if (counts == NULL) { PyBuffer_Release(&view); return PyErr_NoMemory(); }
    int64_t previous = -1, count = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        int64_t k = keys[i];
        if (k < previous) { PyMem_Free(counts); PyBuffer_Release(&view); PyErr_SetString(PyExc_ValueError, "keys are not sorted"); return NULL; }
        if (k == previous) continue;
        if (k < 2000000000LL || k > 9999999999LL) { PyMem_Free(counts); PyBuffer_Release(&view); PyErr_SetString(PyExc_ValueError, "NANP keys must be 10-digit national numbers"); return NULL; }
        counts[k / 10000]++;
        previous = k;
        count++;
    }
    /* Offsets: exchanges in order, each a bitmap from the threshold up, else 2 bytes a line. */
    Py_ssize_t total = 0;
    PyObject *directory = PyByteArray_FromStringAndSize(NULL, (Py_ssize_t)NANP_EXCHANGES * 8);
    if (directory == NULL) { PyMem_Free(counts); PyBuffer_Release(&view); return NULL; }
    unsigned char *dir = (unsigned char *)PyByteArray_AS_STRING(directory);
    memset(dir, 0, (size_t)NANP_EXCHANGES * 8);
    Py_ssize_t *offsets = PyMem_Malloc(sizeof(Py_ssize_t) * NANP_EXCHANGES);
    if (offsets == NULL) { Py_DECREF(directory); PyMem_Free(counts); PyBuffer_Release(&view); return PyErr_NoMemory(); }
    for (Py_ssize_t e = 0; e < NANP_EXCHANGES; e++) {
        offsets[e] = total;
        if (counts[e] == 0) continue;
        uint64_t entry = ((uint64_t)total << 16) | counts[e];
        for (int b = 0; b < 8; b++) dir[e * 8 + b] = (unsigned char)(entry >> (8 * b));
        total += counts[e] >= BITMAP_THRESHOLD ? BITMAP_BYTES : (Py_ssize_t)counts[e] * 2;
    }
    PyObject *data = PyByteArray_FromStringAndSize(NULL, total);
    if (data == NULL) { PyMem_Free(offsets); Py_DECREF(directory); PyMem_Free(counts); PyBuffer_Release(&view); return NULL; }
    unsigned char *out = (unsigned char *)PyByteArray_AS_STRING(data);
    memset(out, 0, (size_t)total);
    Py_BEGIN_ALLOW_THREADS
    previous = -1;
    Py_ssize_t filled_exchange = -1, position = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        int64_t k = keys[i];
        if (k == previous) continue;
        previous = k;
        Py_ssize_t e = (Py_ssize_t)(k / 10000);
        unsigned line = (unsigned)(k % 10000);
        if (counts[e] >= BITMAP_THRESHOLD) {
            out[offsets[e] + (line >> 3)] |= (unsigned char)(1u << (line & 7));
        } else {
            if (e != filled_exchange) { filled_exchange = e; position = offsets[e]; }
            out[position] = (unsigned char)(line & 0xFF);
            out[position + 1] = (unsigned char)(line >> 8);
            position += 2;
        }
    }
    Py_END_ALLOW_THREADS
    PyMem_Free(offsets);
    PyMem_Free(counts);
    PyBuffer_Release(&view);
    PyObject *result = Py_BuildValue("(NNL)", directory, data, (long long)count);
    return result;
}

static PyMethodDef native_methods[] = {
    {"encode_nanp", (PyCFunction)encode_nanp, METH_O, "encode_nanp(sorted int64 keys) -> (directory, data, count)"},
    {NULL, NULL, 0, NULL},
};

static PySequenceMethods nanp_as_sequence = {.sq_contains = (objobjproc)nanp_contains};
static PySequenceMethods sorted_as_sequence = {.sq_contains = (objobjproc)sorted_contains};

static PyTypeObject NanpProbeType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "callguard.registry._native.NanpProbe",
    .tp_basicsize = sizeof(Probe),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "NanpProbe(buffer, directory_offset, data_offset): `e164 in probe` over a NANP registry.",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)nanp_init,
    .tp_dealloc = (destructor)probe_dealloc,
    .tp_as_sequence = &nanp_as_sequence,
};

static PyTypeObject SortedProbeType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "callguard.registry._native.SortedProbe",
    .tp_basicsize = sizeof(Probe),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "SortedProbe(buffer, offset, count): `e164 in probe` over a sorted uint64 array.",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)sorted_init,
    .tp_dealloc = (destructor)probe_dealloc,
    .tp_as_sequence = &sorted_as_sequence,
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_native", "Registry file probes and encoder.", -1, native_methods};

PyMODINIT_FUNC PyInit__native(void) {
    if (PyType_Ready(&NanpProbeType) < 0 || PyType_Ready(&SortedProbeType) < 0) return NULL;
    PyObject *m = PyModule_Create(&module);
    if (m == NULL) return NULL;
    Py_INCREF(&NanpProbeType);
    Py_INCREF(&SortedProbeType);
    if (PyModule_AddObject(m, "NanpProbe", (PyObject *)&NanpProbeType) < 0 ||
        PyModule_AddObject(m, "SortedProbe", (PyObject *)&SortedProbeType) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
