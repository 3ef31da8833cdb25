import Foundation

/// A set of field paths, as server-side apply tracks ownership: the `fieldsV1` format of
/// `metadata.managedFields` (structured-merge-diff's `fieldpath.Set`).
///
/// Path elements serialize as `f:<name>` (a map key or struct field), `k:{"name":"c1"}` (a list
/// item identified by its merge key), `v:<json>` (a value of a primitive set list) and `i:<n>`
/// (an index). In `fieldsV1`, `{}` is a member leaf and `"."` marks a node that is itself a
/// member and has members below it.
public struct FieldSet: Sendable, Hashable, CustomStringConvertible {
    public enum PathElement: Sendable, Hashable, Comparable, CustomStringConvertible {
        case field(String)
        case key([String: JSONValue])
        case value(JSONValue)
        case index(Int)

        /// The `fieldsV1` key (`f:name`, `k:{...}`, `v:...`, `i:n`).
        public var encoded: String {
            switch self {
            case .field(let name): "f:" + name
            case .key(let fields): "k:" + JSONValue.object(fields).jsonText
            case .value(let value): "v:" + value.jsonText
            case .index(let index): "i:\(index)"
            }
        }

        /// Reads a `fieldsV1` key. - Throws: `KubeModelsError` (`.applyMalformed`) for anything else.
        public init(encoded text: String) throws(KubeModelsError) {
            let body = String(text.dropFirst(2))
            func parsed() throws(KubeModelsError) -> JSONValue {
                do {
                    return try JSONValue(parsing: body)
                } catch {
                    throw KubeModelsError(code: .applyMalformed, message: "invalid fieldsV1 key \(KubeStatus.goQuoted(text))")
                }
            }
            switch text.prefix(2) {
            case "f:": self = .field(body)
            case "k:":
                guard let fields = try parsed().objectValue else {
                    throw KubeModelsError(code: .applyMalformed, message: "invalid fieldsV1 key \(KubeStatus.goQuoted(text))")
                }
                self = .key(fields)
            case "v:": self = .value(try parsed())
            case "i:":
                guard let index = Int(body) else {
                    throw KubeModelsError(code: .applyMalformed, message: "invalid fieldsV1 key \(KubeStatus.goQuoted(text))")
                }
                self = .index(index)
            default:
                throw KubeModelsError(code: .applyMalformed, message: "invalid fieldsV1 key \(KubeStatus.goQuoted(text))")
            }
        }

        /// The form used in conflict messages: `.name`, `[name="c1"]`, `[="v"]`, `[0]`.
        public var description: String {
            switch self {
            case .field(let name): "." + name
            case .key(let fields):
                "[" + fields.keys.sorted().map { "\($0)=\(fields[$0]?.jsonText ?? "null")" }.joined(separator: ",") + "]"
            case .value(let value): "[=\(value.jsonText)]"
            case .index(let index): "[\(index)]"
            }
        }

        public static func < (lhs: PathElement, rhs: PathElement) -> Bool { lhs.encoded < rhs.encoded }
    }

    public typealias Path = [PathElement]

    /// The member paths.
    public private(set) var paths: Set<Path>

    public init(_ paths: some Sequence<Path> = [Path]()) {
        self.paths = Set(paths)
    }

    public var isEmpty: Bool { paths.isEmpty }

    public func contains(_ path: Path) -> Bool { paths.contains(path) }

    public mutating func insert(_ path: Path) { paths.insert(path) }

    public func union(_ other: FieldSet) -> FieldSet { FieldSet(paths.union(other.paths)) }
    public func intersection(_ other: FieldSet) -> FieldSet { FieldSet(paths.intersection(other.paths)) }
    public func subtracting(_ other: FieldSet) -> FieldSet { FieldSet(paths.subtracting(other.paths)) }

    /// Paths in a stable order (by their encoded elements).
    public var sortedPaths: [Path] {
        paths.sorted { a, b in a.lexicographicallyPrecedes(b) }
    }

    /// `.data.a`, `.spec.containers[name="c1"].image`, as conflict messages print paths.
    public static func string(_ path: Path) -> String { path.map(\.description).joined() }

    public var description: String { sortedPaths.map(Self.string).joined(separator: "\n") }

    /// Drops every path equal to or below one of `prefixes`.
    public func removingSubtrees(_ prefixes: [Path]) -> FieldSet {
        FieldSet(paths.filter { path in !prefixes.contains { path.starts(with: $0) } })
    }

    // MARK: - fieldsV1

    /// Reads a `fieldsV1` object. - Throws: `KubeModelsError` (`.applyMalformed`).
    public init(fieldsV1: JSONValue) throws(KubeModelsError) {
        var result = Set<Path>()
        try Self.decode(fieldsV1, prefix: [], into: &result)
        paths = result
    }

    private static func decode(_ node: JSONValue, prefix: Path, into result: inout Set<Path>) throws(KubeModelsError) {
        guard let fields = node.objectValue else {
            throw KubeModelsError(code: .applyMalformed, message: "fieldsV1 nodes must be objects, got \(node.jsonText)")
        }
        for (key, child) in fields {
            if key == "." {
                result.insert(prefix)
                continue
            }
            let path = prefix + [try PathElement(encoded: key)]
            if child.objectValue?.isEmpty == true {
                result.insert(path)
            } else {
                try decode(child, prefix: path, into: &result)
            }
        }
    }

    /// The `fieldsV1` object for this set.
    public var fieldsV1: JSONValue {
        var root = Node()
        for path in paths { root.insert(path[...]) }
        return root.json
    }

    private struct Node {
        var isMember = false
        var children: [PathElement: Node] = [:]

        mutating func insert(_ path: ArraySlice<PathElement>) {
            guard let first = path.first else {
                isMember = true
                return
            }
            children[first, default: Node()].insert(path.dropFirst())
        }

        var json: JSONValue {
            var object: [String: JSONValue] = [:]
            for (element, child) in children {
                object[element.encoded] = child.json
            }
            if isMember && !children.isEmpty { object["."] = .object([:]) }
            return .object(object)
        }
    }
}
