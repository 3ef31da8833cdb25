import KubeClient
import KubeModels

/// `snapshots.longhorn.io` (short name `lhsnap`, v1.3+): a snapshot of one volume (section 3).
public struct Snapshot: LonghornModel, Hashable {
    public static let resource = LonghornResources.snapshots
    public static let kind = "Snapshot"

    public var metadata: ResourceMetadata
    public var spec: Spec
    public var status: Status?
    public var original: JSONValue?

    public init(metadata: ResourceMetadata, spec: Spec, status: Status? = nil) {
        self.metadata = metadata
        self.spec = spec
        self.status = status
    }

    enum CodingKeys: String, CodingKey { case metadata, spec, status }

    public struct Spec: Codable, Sendable, Hashable {
        /// The volume (required, immutable).
        public var volume: String
        /// Must be true to take a new snapshot; false means "mirror an existing engine snapshot",
        /// and Longhorn deletes such a CR when no snapshot matches.
        public var createSnapshot: Bool?
        public var labels: [String: String]?

        public init(volume: String, createSnapshot: Bool? = nil, labels: [String: String]? = nil) {
            self.volume = volume
            self.createSnapshot = createSnapshot
            self.labels = labels
        }
    }

    public struct Status: Codable, Sendable, Hashable {
        public var readyToUse: Bool?
        /// Longhorn's own error text ("... is not running. Waiting for the volume to be attached").
        public var error: String?
        public var creationTime: String?
        public var markRemoved: Bool?
        public var userCreated: Bool?

        public init(readyToUse: Bool? = nil, error: String? = nil, creationTime: String? = nil, markRemoved: Bool? = nil) {
            self.readyToUse = readyToUse
            self.error = error
            self.creationTime = creationTime
            self.markRemoved = markRemoved
        }
    }
}
