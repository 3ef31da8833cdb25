/// A value that must never show up in logs, error messages or debug output: bearer tokens,
/// private keys, passwords, plugin environment values.
///
/// `description`, `debugDescription` and the mirror used by `dump(_:)` all hide the value, so a
/// `Secret` can sit inside any model or error and printing that model stays safe. Read the value
/// with ``revealed`` at the one place that has to use it (an `Authorization` header, a TLS
/// context); the explicit name makes those places easy to find in review.
public struct Secret<Value: Sendable>: Sendable, CustomStringConvertible, CustomDebugStringConvertible,
    CustomReflectable
{
    private let value: Value

    /// Wraps `value`.
    public init(_ value: Value) {
        self.value = value
    }

    /// The wrapped value. Only use it where the secret is actually needed.
    public var revealed: Value { value }

    public var description: String { "<redacted>" }
    public var debugDescription: String { "<redacted>" }

    /// No children, so `dump(_:)` and reflection-based printing of enclosing types cannot reach the value.
    public var customMirror: Mirror { Mirror(self, children: [], displayStyle: .struct) }
}

extension Secret: Equatable where Value: Equatable {}
extension Secret: Hashable where Value: Hashable {}

// MARK: - Codable

/// Encodes as the bare value, so `token: abc` in a kubeconfig decodes straight into `Secret<String>`.
extension Secret: Decodable where Value: Decodable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        self.init(try container.decode(Value.self))
    }
}

extension Secret: Encodable where Value: Encodable {
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(value)
    }
}
