import Foundation
import KubeClient
import KubeModels

/// `backupvolumes.longhorn.io` (short name `lhbv`): one volume's folder in the backup store
/// (section 1). There is no `lastBackupURL`: the newest backup is `status.lastBackupName`, and
/// its URL lives on that Backup CR.
public struct BackupVolume: LonghornModel, Hashable {
    public static let resource = LonghornResources.backupVolumes
    public static let kind = "BackupVolume"

    public var metadata: ResourceMetadata
    public var spec: Spec?
    public var status: Status?
    public var original: JSONValue?

    public init(metadata: ResourceMetadata, spec: Spec? = nil, status: Status? = nil) {
        self.metadata = metadata
        self.spec = spec
        self.status = status
    }

    enum CodingKeys: String, CodingKey { case metadata, spec, status }

    public struct Spec: Codable, Sendable, Hashable {
        public var syncRequestedAt: String?
        /// v1.8+: the volume's name in the store (the CR name no longer is).
        public var volumeName: String?
        /// v1.8+.
        public var backupTargetName: String?

        public init(syncRequestedAt: String? = nil, volumeName: String? = nil, backupTargetName: String? = nil) {
            self.syncRequestedAt = syncRequestedAt
            self.volumeName = volumeName
            self.backupTargetName = backupTargetName
        }
    }

    public struct Status: Codable, Sendable, Hashable {
        public var lastBackupName: String?
        /// The creation time of the snapshot the newest backup was made from.
        public var lastBackupAt: String?
        public var lastSyncedAt: String?
        public var size: String?
        public var storageClassName: String?
        public var messages: [String: String]?

        public init(lastBackupName: String? = nil, lastBackupAt: String? = nil, lastSyncedAt: String? = nil) {
            self.lastBackupName = lastBackupName
            self.lastBackupAt = lastBackupAt
            self.lastSyncedAt = lastSyncedAt
        }
    }

    /// The volume name in the store: `spec.volumeName` (v1.8+), else the `backup-volume` label,
    /// else (≤ v1.7, where the CR is named after the volume) the CR name.
    public var volumeName: String {
        if let name = spec?.volumeName, !name.isEmpty { return name }
        if let name = metadata.label(LonghornLabels.backupVolume), !name.isEmpty { return name }
        return metadata.name
    }

    /// The target (v1.8+): `spec.backupTargetName`, else the `backup-target` label; nil on ≤ v1.7.
    public var backupTargetName: String? {
        if let name = spec?.backupTargetName, !name.isEmpty { return name }
        return metadata.label(LonghornLabels.backupTarget)
    }

    /// Whether this CR is the store folder of `volume` on `target`. Works for every naming
    /// scheme at once, because upgraded clusters hold both (section 1.2).
    public func belongs(toVolume volume: String, target: String) -> Bool {
        guard volumeName == volume else { return false }
        if let own = backupTargetName { return own == target }
        return true
    }

    public var lastSyncedAt: Date? { LonghornTime.parse(status?.lastSyncedAt) }

    /// The newest backup's name, nil when the store folder holds none.
    public var lastBackupName: String? { status?.lastBackupName.flatMap { $0.isEmpty ? nil : $0 } }
}
