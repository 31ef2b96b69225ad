// Pickle: a restricted reader of Python pickles, enough for PyTorch checkpoints and no more.
//
// A pickle is a program for a stack machine; Python's own unpickler runs whatever callables it
// names, which is how a checkpoint can carry code. This reader runs nothing. It interprets the
// opcodes that build plain data (None, bools, ints, floats, strings, bytes, tuples, lists, dicts),
// resolves persistent ids to tensor storages, and knows a short allow-list of globals, each of
// which it *describes* rather than calls:
//
//   collections.OrderedDict                      → a dict
//   torch._utils._rebuild_tensor_v2 / _rebuild_parameter → a tensor view of a storage
//   torch.{Float,Double,Half,BFloat16,Long,Int,Short,Char,Byte,Bool}Storage → storage element types
//   pathlib.{PosixPath,WindowsPath,PurePosixPath,PureWindowsPath}, argparse.Namespace
//                                                → inert placeholder objects (Lightning hyper-parameters)
//   builtins/__builtin__ set and frozenset       → a list;  _codecs.encode(str, "latin1") → bytes
//
// Every other global, and every opcode outside protocols 2–4's data subset (INST, OBJ, EXT*,
// NEWOBJ_EX, the text-protocol opcodes, out-of-band buffers), is rejected with the byte offset.
// Lengths are checked against the bytes that remain before anything is allocated.

import Foundation
import ToolKit

// MARK: - Values

/// A value built by the restricted unpickler.
public indirect enum PickleValue {
    case none
    case bool(Bool)
    case int(Int)
    case float(Double)
    case string(String)
    case bytes([UInt8])
    /// A tuple and its nesting depth (1 + the deepest item's).
    case tuple([PickleValue], depth: Int)
    case list(PickleList)
    case dict(PickleDict)
    /// An allow-listed global, not yet applied (a storage type, a constructor).
    case global(String)
    case storage(PickleStorage)
    case tensor(PickleTensor)
    /// An inert stand-in for an allow-listed data class (e.g. pathlib.PosixPath).
    case object(PickleObject)

    /// The value as a Swift string, if it is one.
    public var string: String? { if case .string(let s) = self { return s }; return nil }
    /// The value as an integer, if it is one (bools count, as in Python).
    public var int: Int? {
        switch self {
        case .int(let i): return i
        case .bool(let b): return b ? 1 : 0
        default: return nil
        }
    }
    /// Containers inside containers, counted from 1 for a container of scalars (0 for a scalar).
    public var depth: Int {
        switch self {
        case .tuple(_, let d): return d
        case .list(let l): return l.depth
        case .dict(let d): return d.depth
        case .object(let o): return o.depth
        default: return 0
        }
    }

    /// The dict, if the value is one.
    public var dict: PickleDict? { if case .dict(let d) = self { return d }; return nil }

    /// A short description for error messages.
    public var kindName: String {
        switch self {
        case .none: return "None"
        case .bool: return "bool"
        case .int: return "int"
        case .float: return "float"
        case .string: return "str"
        case .bytes: return "bytes"
        case .tuple: return "tuple"
        case .list: return "list"
        case .dict: return "dict"
        case .global(let g): return "global \(excerpt(g))"
        case .storage: return "storage"
        case .tensor: return "tensor"
        case .object(let o): return excerpt(o.className)
        }
    }
}

/// A mutable Python list (shared by reference, as the memo requires).
public final class PickleList {
    public internal(set) var items: [PickleValue] = []
    /// Nesting depth (see PickleValue.depth).
    public internal(set) var depth = 1
    /// Set once the list is an item of another container; it may not change after that, so that
    /// depths stay exact (torch's pickles fill every container before nesting it).
    var sealed = false
}

/// A mutable Python dict in insertion order.
public final class PickleDict {
    public private(set) var keys: [PickleValue] = []
    public private(set) var values: [PickleValue] = []
    var index: [String: Int] = [:]
    /// Nesting depth and seal, as for PickleList.
    public internal(set) var depth = 1
    var sealed = false

    /// Sets a key (a new key goes last, as in Python).
    func set(_ key: PickleValue, _ value: PickleValue) throws {
        let k = try PickleDict.hashKey(key)
        if let i = index[k] { values[i] = value; return }
        index[k] = keys.count
        keys.append(key)
        values.append(value)
    }

    /// The value of a string key.
    public subscript(_ key: String) -> PickleValue? {
        index["s" + key].map { values[$0] }
    }

    public var count: Int { keys.count }

    static func hashKey(_ v: PickleValue, depth: Int = 0) throws -> String {
        guard depth < 32 else { throw PickleError("dict key nested too deeply") }
        switch v {
        case .string(let s): return "s" + s
        case .int(let i): return "i\(i)"
        case .bool(let b): return "i\(b ? 1 : 0)"
        case .float(let d): return d == d.rounded() && abs(d) < 1e18 ? "i\(Int(d))" : "f\(d.bitPattern)"
        case .none: return "n"
        case .bytes(let b): return "b" + b.map { String($0) }.joined(separator: ",")
        case .tuple(let t, _): return "t(" + (try t.map { try hashKey($0, depth: depth + 1) }).joined(separator: ",") + ")"
        default: throw PickleError("unhashable dict key (\(v.kindName))")
        }
    }
}

/// A persistent storage reference: `('storage', <type>, key, location, numel)`.
public final class PickleStorage {
    public let dtype: DType
    /// The storage's key: its data is the zip member `<prefix>data/<key>`.
    public let key: String
    /// Elements in the storage.
    public let count: Int
    init(dtype: DType, key: String, count: Int) { self.dtype = dtype; self.key = key; self.count = count }
}

/// A tensor described by `_rebuild_tensor_v2`: a strided view of a storage.
public final class PickleTensor {
    public let storage: PickleStorage
    public let offset: Int
    public let shape: [Int]
    public let strides: [Int]
    init(storage: PickleStorage, offset: Int, shape: [Int], strides: [Int]) {
        self.storage = storage; self.offset = offset; self.shape = shape; self.strides = strides
    }
}

/// A placeholder for an allow-listed data class; it records its class and arguments, nothing more.
public final class PickleObject {
    public let className: String
    public let arguments: [PickleValue]
    public let depth: Int
    init(className: String, arguments: [PickleValue], depth: Int) {
        self.className = className; self.arguments = arguments; self.depth = depth
    }
}

/// Why a pickle was refused; the checkpoint reader adds the file name.
public struct PickleError: Error, CustomStringConvertible {
    public let description: String
    init(_ m: String) { description = m }
}

// MARK: - The machine

public enum Pickle {
    /// Globals that may appear, and what each stands for.
    static let storageTypes: [String: DType] = [
        "torch.FloatStorage": .f32, "torch.DoubleStorage": .f64, "torch.HalfStorage": .f16,
        "torch.BFloat16Storage": .bf16, "torch.LongStorage": .i64, "torch.IntStorage": .i32,
        "torch.ShortStorage": .i16, "torch.CharStorage": .i8, "torch.ByteStorage": .u8, "torch.BoolStorage": .bool,
    ]
    static let placeholderClasses: Set<String> = [
        "pathlib.PosixPath", "pathlib.WindowsPath", "pathlib.PurePosixPath", "pathlib.PureWindowsPath",
        "argparse.Namespace",
    ]
    static let dataGlobals: Set<String> = [
        "collections.OrderedDict", "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_parameter",
        "builtins.set", "builtins.frozenset", "__builtin__.set", "__builtin__.frozenset", "_codecs.encode",
    ]

    /// Whether a global may appear in a checkpoint.
    public static func isAllowed(_ global: String) -> Bool {
        storageTypes[global] != nil || placeholderClasses.contains(global) || dataGlobals.contains(global)
    }

    /// Runs the restricted machine over `bytes` and returns the pickled value.
    /// - Throws: `PickleError` naming the opcode and byte offset of the first thing refused.
    public static func load(_ bytes: UnsafeRawBufferPointer) throws -> PickleValue {
        var m = Machine(bytes)
        return try m.run()
    }

    struct Machine {
        let b: UnsafeRawBufferPointer
        var pos = 0
        var stack: [PickleValue] = []
        var marks: [Int] = []
        var memo: [Int: PickleValue] = [:]
        var storages: [String: PickleStorage] = [:]
        var opStart = 0

        init(_ b: UnsafeRawBufferPointer) { self.b = b }

        func fail(_ m: String) -> PickleError { PickleError("pickle byte \(opStart): \(m)") }

        /// Containers may nest this deep; releasing deeper structures would recurse without bound.
        static let maxDepth = 200

        /// Marks `items` as nested in a new container and returns that container's depth.
        func nest(_ items: [PickleValue]) throws -> Int {
            var d = 0
            for v in items {
                switch v {
                case .list(let l): l.sealed = true
                case .dict(let x): x.sealed = true
                default: break
                }
                d = max(d, v.depth)
            }
            guard d < Self.maxDepth else { throw fail("containers nested deeper than \(Self.maxDepth)") }
            return d + 1
        }

        func tuple(_ items: [PickleValue]) throws -> PickleValue { .tuple(items, depth: try nest(items)) }

        func append(_ items: [PickleValue], to l: PickleList) throws {
            guard !l.sealed else { throw fail("a list is changed after being nested (recursive structures are not supported)") }
            l.depth = max(l.depth, try nest(items))
            // Nesting sealed every item; if that sealed `l`, it was one of them: a list holding
            // itself (any longer cycle meets a sealed container above).
            guard !l.sealed else { throw fail("a list is appended to itself (recursive structures are not supported)") }
            l.items.append(contentsOf: items)
        }

        func setItems(_ items: [PickleValue], in d: PickleDict) throws {
            guard !d.sealed else { throw fail("a dict is changed after being nested (recursive structures are not supported)") }
            d.depth = max(d.depth, try nest(items))
            guard !d.sealed else { throw fail("a dict is set as its own key or value (recursive structures are not supported)") }
            for i in stride(from: 0, to: items.count, by: 2) {
                do { try d.set(items[i], items[i + 1]) } catch let e as PickleError { throw fail(e.description) }
            }
        }

        mutating func byte() throws -> UInt8 {
            guard pos < b.count else { throw fail("the pickle ends before STOP (truncated)") }
            defer { pos += 1 }
            return b[pos]
        }

        mutating func take(_ n: Int) throws -> UnsafeRawBufferPointer {
            guard n >= 0, n <= b.count - pos else { throw fail("a length of \(n) bytes runs past the end of the pickle") }
            defer { pos += n }
            return UnsafeRawBufferPointer(rebasing: b[pos..<(pos + n)])
        }

        mutating func uint(_ n: Int) throws -> Int {
            let r = try take(n)
            var v: UInt64 = 0
            for i in (0..<n).reversed() { v = v << 8 | UInt64(r[i]) }
            guard v <= UInt64(Int.max) else { throw fail("length \(v) is out of range") }
            return Int(v)
        }

        mutating func line() throws -> String {
            var end = pos
            while end < b.count && b[end] != 0x0A {
                end += 1
                if end - pos > 256 { throw fail("GLOBAL name longer than 256 bytes") }
            }
            guard end < b.count else { throw fail("GLOBAL name runs past the end of the pickle") }
            let s = String(decoding: UnsafeRawBufferPointer(rebasing: b[pos..<end]), as: UTF8.self)
            pos = end + 1
            return s
        }

        mutating func pop() throws -> PickleValue {
            guard let v = stack.popLast(), stack.count >= (marks.last ?? 0) else { throw fail("stack underflow") }
            return v
        }

        mutating func popMark() throws -> [PickleValue] {
            guard let m = marks.popLast(), m <= stack.count else { throw fail("no MARK for this opcode") }
            let items = Array(stack[m...])
            stack.removeSubrange(m...)
            return items
        }

        mutating func top() throws -> PickleValue {
            guard let v = stack.last, stack.count > (marks.last ?? 0) else { throw fail("stack underflow") }
            return v
        }

        mutating func string(_ n: Int) throws -> PickleValue {
            .string(String(decoding: try take(n), as: UTF8.self))
        }

        mutating func run() throws -> PickleValue {
            while true {
                opStart = pos
                let op = try byte()
                switch op {
                case 0x80: _ = try byte()                              // PROTO
                case 0x95: _ = try take(8)                             // FRAME (a size hint)
                case 0x2E:                                             // STOP
                    guard stack.count == 1, marks.isEmpty else { throw fail("STOP with \(stack.count) values on the stack") }
                    return stack[0]
                case 0x28: marks.append(stack.count)                   // MARK
                case 0x30: _ = try pop()                               // POP
                case 0x31: _ = try popMark()                           // POP_MARK
                case 0x32: stack.append(try top())                     // DUP
                case 0x4E: stack.append(.none)                        // NONE
                case 0x88: stack.append(.bool(true))                   // NEWTRUE
                case 0x89: stack.append(.bool(false))                  // NEWFALSE
                case 0x4A:                                             // BININT
                    let u = UInt32(try uint(4))
                    stack.append(.int(Int(Int32(bitPattern: u))))
                case 0x4B: stack.append(.int(Int(try byte())))         // BININT1
                case 0x4D: stack.append(.int(try uint(2)))             // BININT2
                case 0x8A:                                             // LONG1
                    let n = Int(try byte())
                    guard n <= 8 else { throw fail("integer of \(n) bytes is too large") }
                    let r = try take(n)
                    var v: UInt64 = 0
                    for i in (0..<n).reversed() { v = v << 8 | UInt64(r[i]) }
                    if n > 0 && n < 8 && r[n - 1] & 0x80 != 0 { v |= ~0 << UInt64(8 * n) }  // sign-extend
                    stack.append(.int(Int(Int64(bitPattern: v))))
                case 0x47:                                             // BINFLOAT (big-endian)
                    let r = try take(8)
                    var v: UInt64 = 0
                    for i in 0..<8 { v = v << 8 | UInt64(r[i]) }
                    stack.append(.float(Double(bitPattern: v)))
                case 0x58: stack.append(try string(try uint(4)))       // BINUNICODE
                case 0x8C: stack.append(try string(try uint(1)))       // SHORT_BINUNICODE
                case 0x8D: stack.append(try string(try uint(8)))       // BINUNICODE8
                case 0x54, 0x55:                                       // BINSTRING, SHORT_BINSTRING (Python 2 str)
                    let n = try uint(op == 0x54 ? 4 : 1)
                    stack.append(.string(String(decoding: try take(n), as: UTF8.self)))
                case 0x42, 0x43, 0x8E:                                 // BINBYTES, SHORT_BINBYTES, BINBYTES8
                    let n = try uint(op == 0x42 ? 4 : (op == 0x43 ? 1 : 8))
                    stack.append(.bytes(Array(try take(n))))
                case 0x29: stack.append(.tuple([], depth: 1))          // EMPTY_TUPLE
                case 0x74: stack.append(try tuple(try popMark()))      // TUPLE
                case 0x85, 0x86, 0x87:                                 // TUPLE1..3
                    let n = Int(op) - 0x84
                    var items = [PickleValue]()
                    for _ in 0..<n { items.insert(try pop(), at: 0) }
                    stack.append(try tuple(items))
                case 0x5D: stack.append(.list(PickleList()))           // EMPTY_LIST
                case 0x6C:                                             // LIST
                    let l = PickleList(); try append(try popMark(), to: l); stack.append(.list(l))
                case 0x8F: stack.append(.list(PickleList()))           // EMPTY_SET (as a list)
                case 0x91:                                             // FROZENSET
                    let l = PickleList(); try append(try popMark(), to: l); stack.append(.list(l))
                case 0x61:                                             // APPEND
                    let v = try pop()
                    guard case .list(let l) = try top() else { throw fail("APPEND to a non-list") }
                    try append([v], to: l)
                case 0x65, 0x90:                                       // APPENDS, ADDITEMS
                    let items = try popMark()
                    guard case .list(let l) = try top() else { throw fail("APPENDS to a non-list") }
                    try append(items, to: l)
                case 0x7D: stack.append(.dict(PickleDict()))           // EMPTY_DICT
                case 0x64:                                             // DICT
                    let items = try popMark()
                    guard items.count % 2 == 0 else { throw fail("DICT with an odd number of items") }
                    let d = PickleDict()
                    try setItems(items, in: d)
                    stack.append(.dict(d))
                case 0x73:                                             // SETITEM
                    let v = try pop(), k = try pop()
                    guard case .dict(let d) = try top() else { throw fail("SETITEM on a non-dict") }
                    try setItems([k, v], in: d)
                case 0x75:                                             // SETITEMS
                    let items = try popMark()
                    guard items.count % 2 == 0 else { throw fail("SETITEMS with an odd number of items") }
                    guard case .dict(let d) = try top() else { throw fail("SETITEMS on a non-dict") }
                    try setItems(items, in: d)
                case 0x71: memo[try uint(1)] = try top()               // BINPUT
                case 0x72: memo[try uint(4)] = try top()               // LONG_BINPUT
                case 0x94: memo[memo.count] = try top()                // MEMOIZE
                case 0x68, 0x6A:                                       // BINGET, LONG_BINGET
                    let i = try uint(op == 0x68 ? 1 : 4)
                    guard let v = memo[i] else { throw fail("memo entry \(i) was never stored") }
                    stack.append(v)
                case 0x63:                                             // GLOBAL
                    let module = try line(), name = try line()
                    try pushGlobal(module + "." + name)
                case 0x93:                                             // STACK_GLOBAL
                    let name = try pop(), module = try pop()
                    guard let n = name.string, let mo = module.string else { throw fail("STACK_GLOBAL needs two strings") }
                    try pushGlobal(mo + "." + n)
                case 0x51:                                             // BINPERSID
                    stack.append(try persistent(try pop()))
                case 0x52:                                             // REDUCE
                    let args = try pop(), callable = try pop()
                    guard case .tuple(let a, _) = args else { throw fail("REDUCE arguments are not a tuple") }
                    stack.append(try apply(callable, a))
                case 0x81:                                             // NEWOBJ
                    let args = try pop(), cls = try pop()
                    guard case .tuple(let a, _) = args else { throw fail("NEWOBJ arguments are not a tuple") }
                    guard case .global(let g) = cls, placeholderClasses.contains(g) || g == "collections.OrderedDict" else {
                        throw fail("NEWOBJ of \(cls.kindName) is not allowed")
                    }
                    stack.append(try apply(cls, a))
                case 0x62:                                             // BUILD
                    let state = try pop()
                    switch try top() {
                    case .dict, .object: break    // OrderedDict attributes (torch's _metadata), placeholder state
                    default: throw fail("BUILD on \(try top().kindName) is not allowed")
                    }
                    if case .global = state { throw fail("BUILD with a global as state is not allowed") }
                    _ = try nest([state])
                default:
                    throw fail(String(format: "opcode 0x%02x (%@) is not allowed in a checkpoint", op, Self.opcodeName(op)))
                }
            }
        }

        mutating func pushGlobal(_ g: String) throws {
            guard Pickle.isAllowed(g) else {
                throw fail("global \(excerpt(g)) is not allowed: a checkpoint may hold only tensors and plain data")
            }
            stack.append(.global(g))
        }

        mutating func persistent(_ pid: PickleValue) throws -> PickleValue {
            guard case .tuple(let t, _) = pid, t.count == 5, t[0].string == "storage",
                  case .global(let typeName) = t[1], let dtype = Pickle.storageTypes[typeName],
                  let key = t[2].string, t[3].string != nil, let count = t[4].int, count >= 0 else {
                throw fail("persistent id is not a ('storage', type, key, location, size) tuple")
            }
            if let s = storages[key] {
                guard s.dtype == dtype, s.count == count else { throw fail("storage \(excerpt(key)) is described twice differently") }
                return .storage(s)
            }
            let s = PickleStorage(dtype: dtype, key: key, count: count)
            storages[key] = s
            return .storage(s)
        }

        func intTuple(_ v: PickleValue, _ what: String) throws -> [Int] {
            guard case .tuple(let t, _) = v else { throw fail("tensor \(what) is not a tuple") }
            return try t.map {
                guard let i = $0.int, i >= 0 else { throw fail("tensor \(what) holds a negative or non-integer value") }
                return i
            }
        }

        func apply(_ callable: PickleValue, _ a: [PickleValue]) throws -> PickleValue {
            guard case .global(let g) = callable else { throw fail("REDUCE of \(callable.kindName) is not allowed") }
            switch g {
            case "collections.OrderedDict":
                guard a.isEmpty else { throw fail("OrderedDict with arguments is not supported") }
                return .dict(PickleDict())
            case "torch._utils._rebuild_tensor_v2":
                guard a.count == 6 || a.count == 7, case .storage(let s) = a[0], let offset = a[1].int, offset >= 0 else {
                    throw fail("_rebuild_tensor_v2 expects (storage, offset, size, stride, requires_grad, hooks[, metadata])")
                }
                let shape = try intTuple(a[2], "size"), strides = try intTuple(a[3], "stride")
                guard shape.count == strides.count else { throw fail("tensor size and stride differ in rank") }
                guard shape.count <= 16 else { throw fail("tensor rank \(shape.count) is too large") }
                if case .dict(let hooks) = a[5], hooks.count > 0 { throw fail("tensor backward hooks are not allowed") }
                return .tensor(PickleTensor(storage: s, offset: offset, shape: shape, strides: strides))
            case "torch._utils._rebuild_parameter":
                guard a.count == 3, case .tensor = a[0] else { throw fail("_rebuild_parameter expects (tensor, requires_grad, hooks)") }
                return a[0]
            case "builtins.set", "builtins.frozenset", "__builtin__.set", "__builtin__.frozenset":
                let l = PickleList()
                if let first = a.first {
                    guard case .list(let items) = first else { throw fail("set() of \(first.kindName)") }
                    try append(items.items, to: l)
                }
                return .list(l)
            case "_codecs.encode":
                guard a.count == 2, let s = a[0].string, a[1].string == "latin1" else {
                    throw fail("_codecs.encode expects (str, 'latin1')")
                }
                var out = [UInt8]()
                for u in s.unicodeScalars {
                    guard u.value < 256 else { throw fail("_codecs.encode: not a latin-1 string") }
                    out.append(UInt8(u.value))
                }
                return .bytes(out)
            default:
                if placeholderClasses.contains(g) { return .object(PickleObject(className: g, arguments: a, depth: try nest(a))) }
                throw fail("calling \(excerpt(g)) is not allowed")
            }
        }

        static func opcodeName(_ op: UInt8) -> String {
            switch op {
            case 0x69: return "INST"
            case 0x6F: return "OBJ"
            case 0x82, 0x83, 0x84: return "EXT"
            case 0x92: return "NEWOBJ_EX"
            case 0x50: return "PERSID"
            case 0x49, 0x4C, 0x53, 0x56, 0x46, 0x67, 0x70: return "a text-protocol opcode"
            case 0x96, 0x97, 0x98: return "an out-of-band buffer opcode"
            case 0x8B: return "LONG4"
            case 0x52: return "REDUCE"
            case 0x7B: return "EMPTY_DICT"
            default: return "not a pickle opcode scgrn reads"
            }
        }
    }
}
