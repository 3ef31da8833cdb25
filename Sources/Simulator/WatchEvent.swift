import KubeModels

/// One event of a watch stream, as it travels on the wire: `{"type":..., "object":...}`.
public struct WatchEvent: Sendable, Equatable {
    public enum EventType: String, Sendable {
        case added = "ADDED"
        case modified = "MODIFIED"
        case deleted = "DELETED"
        case bookmark = "BOOKMARK"
        case error = "ERROR"
    }

    public var type: EventType
    public var object: JSONValue

    public init(_ type: EventType, _ object: JSONValue) {
        self.type = type
        self.object = object
    }

    public var json: JSONValue { ["type": .string(type.rawValue), "object": object] }
}

/// A change recorded in the store's history, kept so watches can resume from a resourceVersion.
struct StoredChange: Sendable {
    var revision: Int64
    var typeID: String
    var namespace: String
    var type: WatchEvent.EventType
    var object: JSONValue
    /// The object before the change, so filtered watches can see objects leave their selection.
    var previous: JSONValue?
}
