import Foundation
import KubeClient
import KubeModels

/// A typed view of one Longhorn object holding only the fields we use, next to the object as
/// the server sent it, so writing it back never drops fields this tool does not know.
public protocol LonghornModel: Codable, Sendable {
    static var resource: GroupVersionResource { get }
    static var kind: String { get }
    var metadata: ResourceMetadata { get set }
    /// The object as received (nil for objects built here). Not part of the Codable form.
    var original: JSONValue? { get set }
}

extension LonghornModel {
    /// Decodes `json`, keeping it whole in `original`.
    /// - Throws: `.decoding` when the object does not have the shape the CRD promises.
    public init(json: JSONValue) throws(LonghornError) {
        do {
            var model = try JSONDecoder().decode(Self.self, from: json.encoded())
            model.original = json
            self = model
        } catch {
            throw LonghornError(
                .decoding,
                subject: Self.subject(
                    json[path: ["metadata", "namespace"]]?.stringValue,
                    json[path: ["metadata", "name"]]?.stringValue ?? "?"), detail: "does not have the expected shape: \(error)")
        }
    }

    /// The object to send back: the original with the typed changes applied, so unknown fields
    /// (including those inside conditions and maps) survive. Without an original, the typed view.
    public var json: JSONValue {
        var result = MergePatch.apply(changes, to: original ?? .object([:]))
        result["apiVersion"] = .string(LonghornResources.apiVersion)
        result["kind"] = .string(Self.kind)
        return result
    }

    /// A JSON merge patch from the object as received to the typed view now: only what was
    /// changed here, with `null` for fields set to nil. Send it as `application/merge-patch+json`.
    public var changes: JSONValue {
        let now = Self.typedJSON(self)
        guard let original, let before = try? Self(json: original) else { return now }
        return MergePatch.diff(from: Self.typedJSON(before), to: now)
    }

    static func typedJSON(_ model: Self) -> JSONValue {
        do {
            return try JSONValue(parsing: JSONEncoder().encode(model))
        } catch {
            // Plain Codable structs of strings, numbers, booleans and maps always encode.
            return .object([:])
        }
    }

    public var name: String { metadata.name }

    /// `volumes.longhorn.io longhorn-system/pvc-1`: how errors name the object.
    public var subject: String { Self.subject(metadata.namespace, metadata.name) }

    static func subject(_ namespace: String?, _ name: String) -> String {
        "\(resource) \(namespace.map { "\($0)/" } ?? "")\(name)"
    }
}

/// The `metadata` fields we read and write; everything else stays in `original`.
public struct ResourceMetadata: Codable, Sendable, Hashable {
    public var name: String
    public var namespace: String?
    public var uid: String?
    public var resourceVersion: String?
    public var creationTimestamp: String?
    public var deletionTimestamp: String?
    public var labels: [String: String]?
    public var annotations: [String: String]?

    public init(name: String, namespace: String? = nil, labels: [String: String]? = nil, annotations: [String: String]? = nil) {
        self.name = name
        self.namespace = namespace
        self.labels = labels
        self.annotations = annotations
    }

    public func label(_ key: String) -> String? { labels?[key] }
}

/// A status condition as Longhorn writes it (`Restore`/`RestoreFailure`, `Unavailable`...).
public struct LonghornCondition: Codable, Sendable, Hashable {
    public var type: String
    public var status: String?
    public var reason: String?
    public var message: String?
    public var lastTransitionTime: String?

    public init(type: String, status: String? = nil, reason: String? = nil, message: String? = nil) {
        self.type = type
        self.status = status
        self.reason = reason
        self.message = message
    }

    public var isTrue: Bool { status == "True" }
}

/// Longhorn's timestamps: RFC 3339 in UTC, with or without fractional seconds.
public enum LonghornTime {
    /// Parses `2026-11-27T03:04:05Z` or `2026-11-27T03:04:05.123456Z`; nil for empty or unreadable text.
    public static func parse(_ text: String?) -> Date? {
        guard let text, !text.isEmpty else { return nil }
        let plain = ISO8601DateFormatter()
        plain.formatOptions = [.withInternetDateTime]
        if let date = plain.date(from: text) { return date }
        let fractional = ISO8601DateFormatter()
        fractional.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return fractional.date(from: text)
    }

    /// Formats a time the way Go's `metav1.Time` does (whole seconds, `Z`).
    public static func format(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: date)
    }
}

/// Longhorn writes some int64 fields as JSON strings (`json:"size,string"`): `"1073741824"`.
/// This codes such a field as a string, and accepts a bare number when reading.
@propertyWrapper
public struct QuotedInt64: Codable, Sendable, Hashable {
    public var wrappedValue: Int64?

    public init(wrappedValue: Int64?) { self.wrappedValue = wrappedValue }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            wrappedValue = nil
        } else if let text = try? container.decode(String.self) {
            guard let value = Int64(text) else {
                // An empty string is how Go writes an unset quoted field in some statuses.
                if text.isEmpty {
                    wrappedValue = nil
                    return
                }
                throw DecodingError.dataCorruptedError(in: container, debugDescription: "\"\(text)\" is not an int64")
            }
            wrappedValue = value
        } else {
            wrappedValue = try container.decode(Int64.self)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        if let wrappedValue { try container.encode(String(wrappedValue)) } else { try container.encodeNil() }
    }
}

extension KeyedDecodingContainer {
    /// A missing quoted-int64 key decodes as nil rather than failing.
    public func decode(_ type: QuotedInt64.Type, forKey key: Key) throws -> QuotedInt64 {
        try decodeIfPresent(type, forKey: key) ?? QuotedInt64(wrappedValue: nil)
    }
}

extension KeyedEncodingContainer {
    /// A nil quoted-int64 is left out rather than written as null (null would delete it in a merge).
    public mutating func encode(_ value: QuotedInt64, forKey key: Key) throws {
        if value.wrappedValue != nil { try encodeIfPresent(value, forKey: key) }
    }
}
