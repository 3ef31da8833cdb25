import KubeClient
import KubeModels

/// `settings.longhorn.io`: one Longhorn setting. The value sits at the top level, not under `spec`.
public struct Setting: LonghornModel, Hashable {
    public static let resource = LonghornResources.settings
    public static let kind = "Setting"

    public var metadata: ResourceMetadata
    public var value: String
    public var original: JSONValue?

    public init(metadata: ResourceMetadata, value: String) {
        self.metadata = metadata
        self.value = value
    }

    enum CodingKeys: String, CodingKey { case metadata, value }

    /// Setting names this tool reads.
    public enum Name {
        /// Read-only: the running manager's version, e.g. `v1.10.2`.
        public static let currentLonghornVersion = "current-longhorn-version"
        /// ≤ v1.7 only: the backup target URL (v1.8+ moved it to the BackupTarget CR).
        public static let backupTarget = "backup-target"
        /// ≤ v1.7 only.
        public static let backupTargetCredentialSecret = "backup-target-credential-secret"
        /// ≤ v1.7 only: seconds between store polls.
        public static let backupstorePollInterval = "backupstore-poll-interval"
    }
}
