import KubeClient
import KubeModels

/// `volumes.longhorn.io` (short name `lhv`): a Longhorn volume (longhorn-facts.md section 4).
public struct Volume: LonghornModel, Hashable {
    public static let resource = LonghornResources.volumes
    public static let kind = "Volume"

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
        /// Bytes, written as a quoted int64 (`"1073741824"`); `1Gi` or a bare number is refused.
        @QuotedInt64 public var size: Int64?
        /// Must be set when creating: the webhook never defaults it and refuses an empty one.
        public var frontend: String?
        /// The Backup's `status.url`, verbatim.
        public var fromBackup: String?
        public var numberOfReplicas: Int?
        /// `rwo`, `rwx` (v1.12 adds `rwop`).
        public var accessMode: String?
        /// `v1` or `v2` (v1.6+; v1.5 called it `backendStoreDriver`).
        public var dataEngine: String?
        /// The DR-volume flag, spelled with a capital S in JSON.
        public var standby: Bool?
        /// v1.8+ only: which BackupTarget this volume's backups go to.
        public var backupTargetName: String?

        public init(
            size: Int64? = nil, frontend: String? = nil, fromBackup: String? = nil, numberOfReplicas: Int? = nil,
            accessMode: String? = nil, dataEngine: String? = nil, standby: Bool? = nil, backupTargetName: String? = nil
        ) {
            self.size = size
            self.frontend = frontend
            self.fromBackup = fromBackup
            self.numberOfReplicas = numberOfReplicas
            self.accessMode = accessMode
            self.dataEngine = dataEngine
            self.standby = standby
            self.backupTargetName = backupTargetName
        }

        enum CodingKeys: String, CodingKey {
            case size, frontend, fromBackup, numberOfReplicas, accessMode, dataEngine, backupTargetName
            case standby = "Standby"
        }
    }

    public struct Status: Codable, Sendable, Hashable {
        /// `creating`, `attached`, `detached`, `attaching`, `detaching`, `deleting`.
        public var state: String?
        /// `healthy`, `degraded`, `faulted`, `unknown` (detached volumes are `unknown`).
        public var robustness: String?
        public var restoreRequired: Bool?
        public var restoreInitiated: Bool?
        public var isStandby: Bool?
        /// Name of the newest backup of this volume (copied from its BackupVolume).
        public var lastBackup: String?
        public var lastBackupAt: String?
        public var conditions: [LonghornCondition]?

        public init(
            state: String? = nil, robustness: String? = nil, restoreRequired: Bool? = nil, restoreInitiated: Bool? = nil,
            isStandby: Bool? = nil, lastBackup: String? = nil, conditions: [LonghornCondition]? = nil
        ) {
            self.state = state
            self.robustness = robustness
            self.restoreRequired = restoreRequired
            self.restoreInitiated = restoreInitiated
            self.isStandby = isStandby
            self.lastBackup = lastBackup
            self.conditions = conditions
        }

        public func condition(_ type: String) -> LonghornCondition? {
            conditions?.first { $0.type == type }
        }
    }
}
