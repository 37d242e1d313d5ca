/* The hot path of headwater.producers.avro_encoder: writes one record's Avro binary encoding.
 *
 * Why C: the producer SDK must reach 70% of the rate of raw confluent-kafka producing pre-encoded
 * bytes (benchmarks/backfill.py). Straight-line Python generated per schema still spent ~10 us on a
 * 12-field key and value; librdkafka needs ~2.5 us to take a record.
 *
 * A Writer is built once per schema version from a program that avro_encoder.py compiles from the
 * schema (nested tuples, see `build_node`). `encode(value)` returns the header given at construction
 * followed by the Avro body. It takes only values it can write exactly as fastavro writes them; on
 * anything else (a missing or extra field, an unexpected type, a number out of range, a failed
 * conversion) it writes nothing and returns what its fallback returns for the value (fastavro's
 * encoding or refusal), or raises Deferred when it has none. Calling the fallback from here saves the
 * hot path a Python frame per record. tests/unit/producers/test_avro_encoder.py checks
 * byte equality with fastavro.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <datetime.h>
#include <float.h>
#include <stdint.h>
#include <string.h>

static PyObject *Deferred; /* the module's exception type */

enum Op {
    OP_NULL,
    OP_BOOLEAN,
    OP_INT,
    OP_LONG,
    OP_FLOAT,
    OP_DOUBLE,
    OP_BYTES,
    OP_STRING,
    OP_FIXED,    /* size */
    OP_ENUM,     /* table: dict symbol -> int index */
    OP_RECORD,   /* names: tuple of field names; children: one per field */
    OP_ARRAY,    /* children[0]: the items */
    OP_MAP,      /* children[0]: the values */
    OP_NULLABLE, /* null_index; children[0]: the other branch */
    OP_CONVERT,  /* convert: callable value -> value; children[0]: writes the result */
    OP_DECIMAL,  /* size: scale; precision; type: decimal.Decimal; convert: the Python conversion to bytes */
    OP_TIMESTAMP, /* size: microseconds per unit (1 or 1000); convert: the Python conversion to int */
};

static const char *const OP_NAMES[] = {
    "null", "boolean", "int", "long", "float", "double", "bytes", "string",
    "fixed", "enum", "record", "array", "map", "nullable", "convert", "decimal", "timestamp", NULL,
};

typedef struct Node {
    enum Op op;
    Py_ssize_t size;      /* fixed: byte size; record: field count */
    long null_index;      /* nullable: the branch index of null (0 or 1) */
    long precision;       /* decimal */
    PyObject *type;       /* decimal: the Decimal type (owned) */
    PyObject *names;      /* record: tuple of str (owned) */
    PyObject *table;      /* enum: dict (owned) */
    PyObject *convert;    /* convert: callable (owned) */
    struct Node *children;
    Py_ssize_t child_count;
} Node;

/* --- the output buffer --- */

typedef struct {
    char *data;
    Py_ssize_t length, capacity;
    char inline_space[512];
} Buffer;

static int buffer_reserve(Buffer *buffer, Py_ssize_t more) {
    Py_ssize_t needed = buffer->length + more;
    if (needed <= buffer->capacity) return 0;
    Py_ssize_t capacity = buffer->capacity * 2;
    while (capacity < needed) capacity *= 2;
    char *data;
    if (buffer->data == buffer->inline_space) {
        data = PyMem_Malloc(capacity);
        if (data != NULL) memcpy(data, buffer->data, buffer->length);
    } else {
        data = PyMem_Realloc(buffer->data, capacity);
    }
    if (data == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    buffer->data = data;
    buffer->capacity = capacity;
    return 0;
}

static int write_raw(Buffer *buffer, const char *bytes, Py_ssize_t length) {
    if (buffer_reserve(buffer, length) < 0) return -1;
    memcpy(buffer->data + buffer->length, bytes, length);
    buffer->length += length;
    return 0;
}

/* Avro's long: zigzag, then seven bits per byte, low bits first. */
static int write_long(Buffer *buffer, int64_t number) {
    if (buffer_reserve(buffer, 10) < 0) return -1;
    uint64_t encoded = ((uint64_t)number << 1) ^ (uint64_t)(number >> 63);
    unsigned char *out = (unsigned char *)buffer->data + buffer->length;
    Py_ssize_t written = 0;
    while (encoded >= 0x80) {
        out[written++] = (unsigned char)((encoded & 0x7F) | 0x80);
        encoded >>= 7;
    }
    out[written++] = (unsigned char)encoded;
    buffer->length += written;
    return 0;
}

static int write_sized(Buffer *buffer, const char *bytes, Py_ssize_t length) {
    if (write_long(buffer, (int64_t)length) < 0) return -1;
    return write_raw(buffer, bytes, length);
}

/* --- writing values; every function returns -1 with an exception set when it does not take the value --- */

static int write_value(const Node *node, PyObject *value, Buffer *buffer);

static int defer(void) {
    if (!PyErr_Occurred()) PyErr_SetNone(Deferred);
    return -1;
}

static int write_integer(PyObject *value, Buffer *buffer, int64_t low, int64_t high) {
    /* Exactly int: a bool is left to fastavro. */
    if (!PyLong_CheckExact(value)) return defer();
    int overflow = 0;
    long long number = PyLong_AsLongLongAndOverflow(value, &overflow);
    if (overflow || number < low || number > high) return defer();
    return write_long(buffer, (int64_t)number);
}

static int as_double(PyObject *value, double *number) {
    if (PyFloat_CheckExact(value)) {
        *number = PyFloat_AS_DOUBLE(value);
        return 0;
    }
    if (PyLong_CheckExact(value)) {
        *number = PyLong_AsDouble(value);
        return *number == -1.0 && PyErr_Occurred() ? -1 : 0;
    }
    return defer();
}

static int write_string(PyObject *value, Buffer *buffer) {
    if (!PyUnicode_Check(value)) return defer();
    Py_ssize_t length;
    /* Cached on the str object; fails (and defers) on lone surrogates, as str.encode() would. */
    const char *utf8 = PyUnicode_AsUTF8AndSize(value, &length);
    if (utf8 == NULL) return -1;
    return write_sized(buffer, utf8, length);
}

static int write_record(const Node *node, PyObject *value, Buffer *buffer) {
    /* Exactly the schema's fields: a default left out or an extra key goes to fastavro. */
    if (!PyDict_CheckExact(value) || PyDict_GET_SIZE(value) != node->size) return defer();
    for (Py_ssize_t index = 0; index < node->size; index++) {
        PyObject *field = PyDict_GetItemWithError(value, PyTuple_GET_ITEM(node->names, index));
        if (field == NULL) return defer();
        /* Held: a conversion runs Python code, which could change the record. */
        Py_INCREF(field);
        int failed = write_value(&node->children[index], field, buffer);
        Py_DECREF(field);
        if (failed < 0) return -1;
    }
    return 0;
}

static int write_array(const Node *node, PyObject *value, Buffer *buffer) {
    if (!PyList_CheckExact(value)) return defer();
    Py_ssize_t count = PyList_GET_SIZE(value);
    /* One block holding every item, then the empty block that ends the array. */
    if (count > 0) {
        if (write_long(buffer, count) < 0) return -1;
        for (Py_ssize_t index = 0; index < count; index++) {
            PyObject *item = PyList_GET_ITEM(value, index);
            Py_INCREF(item);
            int failed = write_value(&node->children[0], item, buffer);
            Py_DECREF(item);
            if (failed < 0) return -1;
            if (PyList_GET_SIZE(value) != count) return defer();
        }
    }
    return write_long(buffer, 0);
}

static int write_map(const Node *node, PyObject *value, Buffer *buffer) {
    if (!PyDict_CheckExact(value)) return defer();
    Py_ssize_t count = PyDict_GET_SIZE(value);
    if (count > 0) {
        if (write_long(buffer, count) < 0) return -1;
        Py_ssize_t position = 0;
        PyObject *key, *item;
        while (PyDict_Next(value, &position, &key, &item)) {
            Py_INCREF(item);
            int failed = write_string(key, buffer) < 0 || write_value(&node->children[0], item, buffer) < 0;
            Py_DECREF(item);
            if (failed) return -1;
            if (PyDict_GET_SIZE(value) != count) return defer();
        }
    }
    return write_long(buffer, 0);
}

static int write_converted(const Node *node, PyObject *value, Buffer *buffer) {
    PyObject *converted = PyObject_CallOneArg(node->convert, value);
    if (converted == NULL) return -1;
    int result = write_value(&node->children[0], converted, buffer);
    Py_DECREF(converted);
    return result;
}

/* Two's complement, big-endian, in as many bytes as the magnitude's bits plus a sign bit need:
 * fastavro's length for a decimal's unscaled value. */
static int write_unscaled(Buffer *buffer, int64_t unscaled) {
    uint64_t magnitude = unscaled < 0 ? -(uint64_t)unscaled : (uint64_t)unscaled;
    int bits = 0;
    while (bits < 64 && magnitude >> bits) bits++;
    int size = (bits + 8) / 8; /* at most 8: the caller reads no more than 18 digits */
    char bytes[8];
    for (int index = 0; index < size; index++) bytes[size - 1 - index] = (char)(((uint64_t)unscaled >> (8 * index)) & 0xFF);
    return write_sized(buffer, bytes, size);
}

/* The unscaled value of a Decimal whose text is plain notation with exactly `scale` places after the
 * point ("-1234.50" for scale 2) and at most 18 digits: the usual case, read from str() (150 ns) rather
 * than through Decimal's methods (a microsecond or more). 1 when read, 0 when the text has another
 * shape (an exponent, fewer places, NaN, ...), -1 on error. */
static int plain_unscaled(PyObject *value, Py_ssize_t scale, int64_t *unscaled) {
    PyObject *text = PyObject_Str(value);
    if (text == NULL) return -1;
    Py_ssize_t length;
    const char *characters = PyUnicode_AsUTF8AndSize(text, &length);
    if (characters == NULL) {
        Py_DECREF(text);
        return -1;
    }
    Py_ssize_t position = 0, digits = 0, places = -1;
    int negative = length > 0 && characters[0] == '-';
    uint64_t number = 0;
    int plain = 1;
    for (position = negative; position < length && plain; position++) {
        char character = characters[position];
        if (character >= '0' && character <= '9') {
            number = number * 10 + (uint64_t)(character - '0');
            digits++;
            if (places >= 0) places++;
        } else if (character == '.' && places < 0) {
            places = 0;
        } else {
            plain = 0;
        }
    }
    Py_DECREF(text);
    if (!plain || digits == 0 || digits > 18 || (places < 0 ? 0 : places) != scale) return 0;
    *unscaled = negative ? -(int64_t)number : (int64_t)number;
    return 1;
}

static int write_decimal(const Node *node, PyObject *value, Buffer *buffer) {
    if (Py_TYPE(value) == (PyTypeObject *)node->type) {
        int64_t unscaled;
        int read = plain_unscaled(value, node->size, &unscaled);
        if (read < 0) return -1;
        if (read) {
            int64_t limit = 1;
            for (long index = 0; index < node->precision && limit <= INT64_MAX / 10; index++) limit *= 10;
            /* Beyond the precision: fastavro refuses it with its own message. */
            if (node->precision <= 18 && (unscaled >= limit || unscaled <= -limit)) return defer();
            return write_unscaled(buffer, unscaled);
        }
    }
    return write_converted(node, value, buffer);
}

/* Days from 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t year, int64_t month, int64_t day) {
    year -= month <= 2;
    int64_t era = (year >= 0 ? year : year - 399) / 400;
    int64_t year_of_era = year - era * 400;
    int64_t day_of_year = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1;
    int64_t day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    return era * 146097 + day_of_era - 719468;
}

static int write_timestamp(const Node *node, PyObject *value, Buffer *buffer) {
    if (PyLong_CheckExact(value)) return write_integer(value, buffer, INT64_MIN, INT64_MAX);
    /* An aware datetime in UTC, the usual case, computed here; other zones go through Python. */
    if (PyDateTime_CheckExact(value) && PyDateTime_DATE_GET_TZINFO(value) == PyDateTime_TimeZone_UTC) {
        int64_t days = days_from_civil(PyDateTime_GET_YEAR(value), PyDateTime_GET_MONTH(value),
                                       PyDateTime_GET_DAY(value));
        int64_t seconds = days * 86400 + PyDateTime_DATE_GET_HOUR(value) * 3600 +
                          PyDateTime_DATE_GET_MINUTE(value) * 60 + PyDateTime_DATE_GET_SECOND(value);
        int64_t micros = seconds * 1000000 + PyDateTime_DATE_GET_MICROSECOND(value);
        int64_t per_unit = (int64_t)node->size;
        int64_t units = micros / per_unit;
        if (micros % per_unit != 0 && micros < 0) units -= 1; /* floor, as Python's // */
        return write_long(buffer, units);
    }
    return write_converted(node, value, buffer);
}

static int write_value(const Node *node, PyObject *value, Buffer *buffer) {
    switch (node->op) {
    case OP_NULL:
        return value == Py_None ? 0 : defer();
    case OP_BOOLEAN:
        if (value != Py_True && value != Py_False) return defer();
        return write_raw(buffer, value == Py_True ? "\x01" : "\x00", 1);
    case OP_INT:
        return write_integer(value, buffer, INT32_MIN, INT32_MAX);
    case OP_LONG:
        return write_integer(value, buffer, INT64_MIN, INT64_MAX);
    case OP_FLOAT: {
        double number;
        if (as_double(value, &number) < 0) return -1;
        if (buffer_reserve(buffer, 4) < 0) return -1;
        /* Raises OverflowError (deferred) where struct.pack("<f") does: finite but too large. */
        if (PyFloat_Pack4(number, buffer->data + buffer->length, 1) < 0) return -1;
        buffer->length += 4;
        return 0;
    }
    case OP_DOUBLE: {
        double number;
        if (as_double(value, &number) < 0) return -1;
        if (buffer_reserve(buffer, 8) < 0) return -1;
        if (PyFloat_Pack8(number, buffer->data + buffer->length, 1) < 0) return -1;
        buffer->length += 8;
        return 0;
    }
    case OP_BYTES:
        if (!PyBytes_CheckExact(value)) return defer();
        return write_sized(buffer, PyBytes_AS_STRING(value), PyBytes_GET_SIZE(value));
    case OP_STRING:
        return write_string(value, buffer);
    case OP_FIXED:
        if (!PyBytes_CheckExact(value) || PyBytes_GET_SIZE(value) != node->size) return defer();
        return write_raw(buffer, PyBytes_AS_STRING(value), node->size);
    case OP_ENUM: {
        if (!PyUnicode_Check(value)) return defer();
        PyObject *index = PyDict_GetItemWithError(node->table, value);
        if (index == NULL) return defer();
        return write_long(buffer, PyLong_AsLongLong(index));
    }
    case OP_RECORD:
        return write_record(node, value, buffer);
    case OP_ARRAY:
        return write_array(node, value, buffer);
    case OP_MAP:
        return write_map(node, value, buffer);
    case OP_NULLABLE:
        if (value == Py_None) return write_long(buffer, node->null_index);
        if (write_long(buffer, 1 - node->null_index) < 0) return -1;
        return write_value(&node->children[0], value, buffer);
    case OP_CONVERT:
        return write_converted(node, value, buffer);
    case OP_DECIMAL:
        return write_decimal(node, value, buffer);
    case OP_TIMESTAMP:
        return write_timestamp(node, value, buffer);
    }
    return defer();
}

/* --- building the node tree from the program --- */

static void clear_node(Node *node) {
    Py_CLEAR(node->names);
    Py_CLEAR(node->table);
    Py_CLEAR(node->convert);
    Py_CLEAR(node->type);
    if (node->children != NULL) {
        for (Py_ssize_t index = 0; index < node->child_count; index++) clear_node(&node->children[index]);
        PyMem_Free(node->children);
        node->children = NULL;
    }
    node->child_count = 0;
}

static int program_error(const char *message, PyObject *program) {
    PyErr_Format(PyExc_ValueError, "invalid Avro writer program (%s): %R", message, program);
    return -1;
}

static int build_node(Node *node, PyObject *program);
static PyObject *bytes_program, *long_program; /* ("bytes",) and ("long",): what conversions return */

static int build_children(Node *node, Py_ssize_t count) {
    node->children = PyMem_Calloc(count > 0 ? count : 1, sizeof(Node));
    if (node->children == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    node->child_count = count;
    return 0;
}

/* A program is a tuple whose first item names the operation:
 *   ("null",) ("boolean",) ("int",) ("long",) ("float",) ("double",) ("bytes",) ("string",)
 *   ("fixed", size)  ("enum", {symbol: index})  ("record", ((name, program), ...))
 *   ("array", program)  ("map", program)  ("nullable", null_index, program)
 *   ("convert", callable, program)
 *   ("decimal", scale, precision, decimal.Decimal, callable)  the callable converts what is not plain
 *   ("timestamp", microseconds_per_unit, callable)             the callable converts what is not UTC
 */
static int build_node(Node *node, PyObject *program) {
    memset(node, 0, sizeof(Node));
    if (!PyTuple_Check(program) || PyTuple_GET_SIZE(program) < 1) return program_error("not a tuple", program);
    PyObject *name = PyTuple_GET_ITEM(program, 0);
    Py_ssize_t arity = PyTuple_GET_SIZE(program);
    int op = -1;
    for (int index = 0; OP_NAMES[index] != NULL; index++) {
        if (PyUnicode_Check(name) && PyUnicode_CompareWithASCIIString(name, OP_NAMES[index]) == 0) op = index;
    }
    if (op < 0) return program_error("unknown operation", program);
    node->op = (enum Op)op;
    switch (node->op) {
    case OP_FIXED:
        if (arity != 2) return program_error("fixed takes a size", program);
        node->size = PyLong_AsSsize_t(PyTuple_GET_ITEM(program, 1));
        return node->size < 0 ? -1 : 0;
    case OP_ENUM:
        if (arity != 2 || !PyDict_Check(PyTuple_GET_ITEM(program, 1)))
            return program_error("enum takes a dict", program);
        node->table = Py_NewRef(PyTuple_GET_ITEM(program, 1));
        return 0;
    case OP_RECORD: {
        PyObject *fields = arity == 2 ? PyTuple_GET_ITEM(program, 1) : NULL;
        if (fields == NULL || !PyTuple_Check(fields)) return program_error("record takes a tuple of fields", program);
        node->size = PyTuple_GET_SIZE(fields);
        node->names = PyTuple_New(node->size);
        if (node->names == NULL || build_children(node, node->size) < 0) return -1;
        for (Py_ssize_t index = 0; index < node->size; index++) {
            PyObject *field = PyTuple_GET_ITEM(fields, index);
            if (!PyTuple_Check(field) || PyTuple_GET_SIZE(field) != 2 || !PyUnicode_Check(PyTuple_GET_ITEM(field, 0)))
                return program_error("a field is (name, program)", program);
            PyTuple_SET_ITEM(node->names, index, Py_NewRef(PyTuple_GET_ITEM(field, 0)));
            if (build_node(&node->children[index], PyTuple_GET_ITEM(field, 1)) < 0) return -1;
        }
        return 0;
    }
    case OP_ARRAY:
    case OP_MAP:
        if (arity != 2) return program_error("array and map take one program", program);
        if (build_children(node, 1) < 0) return -1;
        return build_node(&node->children[0], PyTuple_GET_ITEM(program, 1));
    case OP_NULLABLE:
        if (arity != 3) return program_error("nullable takes the null index and a program", program);
        node->null_index = PyLong_AsLong(PyTuple_GET_ITEM(program, 1));
        if (node->null_index != 0 && node->null_index != 1) {
            PyErr_Clear();
            return program_error("the null index is 0 or 1", program);
        }
        if (build_children(node, 1) < 0) return -1;
        return build_node(&node->children[0], PyTuple_GET_ITEM(program, 2));
    case OP_CONVERT:
        if (arity != 3 || !PyCallable_Check(PyTuple_GET_ITEM(program, 1)))
            return program_error("convert takes a callable and a program", program);
        node->convert = Py_NewRef(PyTuple_GET_ITEM(program, 1));
        if (build_children(node, 1) < 0) return -1;
        return build_node(&node->children[0], PyTuple_GET_ITEM(program, 2));
    case OP_DECIMAL:
        if (arity != 5 || !PyType_Check(PyTuple_GET_ITEM(program, 3)) || !PyCallable_Check(PyTuple_GET_ITEM(program, 4)))
            return program_error("decimal takes scale, precision, the Decimal type and a callable", program);
        node->size = PyLong_AsSsize_t(PyTuple_GET_ITEM(program, 1));
        node->precision = PyLong_AsLong(PyTuple_GET_ITEM(program, 2));
        if (node->size < 0 || node->precision < 1) {
            PyErr_Clear();
            return program_error("scale >= 0 and precision >= 1", program);
        }
        node->type = Py_NewRef(PyTuple_GET_ITEM(program, 3));
        node->convert = Py_NewRef(PyTuple_GET_ITEM(program, 4));
        if (build_children(node, 1) < 0) return -1;
        return build_node(&node->children[0], bytes_program);
    case OP_TIMESTAMP:
        if (arity != 3 || !PyCallable_Check(PyTuple_GET_ITEM(program, 2)))
            return program_error("timestamp takes microseconds per unit and a callable", program);
        node->size = PyLong_AsSsize_t(PyTuple_GET_ITEM(program, 1));
        if (node->size != 1 && node->size != 1000) {
            PyErr_Clear();
            return program_error("microseconds per unit are 1 or 1000", program);
        }
        node->convert = Py_NewRef(PyTuple_GET_ITEM(program, 2));
        if (build_children(node, 1) < 0) return -1;
        return build_node(&node->children[0], long_program);
    default:
        return arity == 1 ? 0 : program_error("takes no arguments", program);
    }
}

/* --- the Writer type --- */

typedef struct {
    PyObject_HEAD
    Node root;
    PyObject *header;   /* bytes written before every body */
    PyObject *fallback; /* called with a value the writer does not take, or NULL to raise Deferred */
} Writer;

static int Writer_init(Writer *self, PyObject *args, PyObject *kwargs) {
    static char *keywords[] = {"program", "header", "fallback", NULL};
    PyObject *program, *header, *fallback = Py_None;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OS|O", keywords, &program, &header, &fallback)) return -1;
    if (fallback != Py_None && !PyCallable_Check(fallback)) {
        PyErr_SetString(PyExc_TypeError, "fallback must be callable or None");
        return -1;
    }
    clear_node(&self->root);
    Py_XSETREF(self->header, Py_NewRef(header));
    Py_XSETREF(self->fallback, fallback == Py_None ? NULL : Py_NewRef(fallback));
    if (build_node(&self->root, program) < 0) {
        clear_node(&self->root);
        return -1;
    }
    return 0;
}

static void Writer_dealloc(Writer *self) {
    clear_node(&self->root);
    Py_CLEAR(self->header);
    Py_CLEAR(self->fallback);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *Writer_encode(Writer *self, PyObject *value) {
    if (self->header == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "Writer was not initialised");
        return NULL;
    }
    Buffer buffer = {.data = NULL, .length = 0, .capacity = sizeof(buffer.inline_space)};
    buffer.data = buffer.inline_space;
    PyObject *result = NULL;
    if (write_raw(&buffer, PyBytes_AS_STRING(self->header), PyBytes_GET_SIZE(self->header)) == 0 &&
        write_value(&self->root, value, &buffer) == 0) {
        result = PyBytes_FromStringAndSize(buffer.data, buffer.length);
    } else if (!PyErr_ExceptionMatches(PyExc_MemoryError)) {
        /* Whatever stopped it (a type, a range, a conversion), the fallback decides (fastavro). */
        PyErr_Clear();
        if (self->fallback != NULL) {
            if (buffer.data != buffer.inline_space) PyMem_Free(buffer.data);
            return PyObject_CallOneArg(self->fallback, value);
        }
        PyErr_SetNone(Deferred);
    }
    if (buffer.data != buffer.inline_space) PyMem_Free(buffer.data);
    return result;
}

static PyMethodDef Writer_methods[] = {
    {"encode", (PyCFunction)Writer_encode, METH_O,
     "encode(value) -> bytes: the header, then the value's Avro encoding; if it does not take the value as is, "
     "what fallback(value) returns, or Deferred raised without a fallback."},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject WriterType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "headwater.producers._avro_writer.Writer",
    .tp_basicsize = sizeof(Writer),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Writer(program, header, fallback=None): writes values of one Avro schema, compiled to `program`.",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)Writer_init,
    .tp_dealloc = (destructor)Writer_dealloc,
    .tp_methods = Writer_methods,
};

static struct PyModuleDef module_definition = {
    PyModuleDef_HEAD_INIT,
    .m_name = "headwater.producers._avro_writer",
    .m_doc = "Avro binary encoding of one schema's values, for the producer SDK's hot path.",
    .m_size = -1,
};

PyMODINIT_FUNC PyInit__avro_writer(void) {
    PyDateTime_IMPORT;
    if (PyDateTimeAPI == NULL || PyType_Ready(&WriterType) < 0) return NULL;
    bytes_program = Py_BuildValue("(s)", "bytes");
    long_program = Py_BuildValue("(s)", "long");
    if (bytes_program == NULL || long_program == NULL) return NULL;
    PyObject *module = PyModule_Create(&module_definition);
    if (module == NULL) return NULL;
    Deferred = PyErr_NewExceptionWithDoc(
        "headwater.producers._avro_writer.Deferred",
        "The writer does not take this value as is; fastavro encodes or refuses it.", NULL, NULL);
    if (Deferred == NULL || PyModule_AddObjectRef(module, "Deferred", Deferred) < 0 ||
        PyModule_AddObjectRef(module, "Writer", (PyObject *)&WriterType) < 0) {
        Py_DECREF(module);
        return NULL;
    }
    return module;
}
