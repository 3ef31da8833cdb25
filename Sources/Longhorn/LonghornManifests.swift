import Foundation
import KubeClient
import KubeModels

/// Choices for a Volume this tool creates.
public struct VolumeOptions: Sendable, Hashable {
    public var numberOfReplicas: Int
    /// Longhorn's access mode: `rwo`, `rwx` (v1.12+ also `rwop`).
    public var accessMode: String
    /// v1.8+: the BackupTarget later backups go to (ignored on ≤ v1.7, where the field does not exist).
    public var backupTargetName: String
    public var labels: [String: String]

    public init(
        numberOfReplicas: Int = 3, accessMode: String = "rwo", backupTargetName: String = LonghornResources.defaultBackupTarget,
        labels: [String: String] = [:]
    ) {
        self.numberOfReplicas = numberOfReplicas
        self.accessMode = accessMode
        self.backupTargetName = backupTargetName
        self.labels = labels
    }
}

/// The objects this tool sends to Longhorn, built in one place so tests can check each of them
/// against the real CRD schema of every supported release.
public enum LonghornManifests {
    /// The frontend every Volume we create gets: the only v1 frontend CSI attaches.
    public static let frontend = "blockdev"
    /// The data engine every Volume we create gets.
    public static let dataEngine = "v1"
    /// The mutator silently shortens longer volume names (`NameMaximumLength`).
    public static let maximumVolumeNameLength = 40

    /// A Volume restoring `backup`: `fromBackup` is the Backup's `status.url` verbatim, the size is
    /// its `status.volumeSize` (quoted), `frontend: blockdev`, `dataEngine: v1`.
    /// - Throws: `.invalidArgument` for a bad name or options, and when the Backup is not
    ///   Completed or lacks its URL or size (the webhook would refuse it).
    public static func restoreVolume(
        name: String, namespace: String, backup: Backup, options: VolumeOptions = VolumeOptions(), version: LonghornVersion
    ) throws(LonghornError) -> Volume {
        guard backup.isCompleted else {
            throw LonghornError(
                .invalidArgument, subject: backup.subject,
                detail: "is \(backup.state.isEmpty ? "not synced yet (no state)" : backup.state), not Completed; Longhorn restores only Completed backups",
                hint: "wait for the backup to complete (or its sync from the store) before restoring")
        }
        guard let url = backup.status?.url, !url.isEmpty else {
            throw LonghornError(
                .invalidArgument, subject: backup.subject, detail: "has no status.url yet", hint: "wait for Longhorn to sync the backup from the store")
        }
        guard let size = backup.volumeSizeBytes, size > 0 else {
            throw LonghornError(
                .invalidArgument, subject: backup.subject,
                detail: "has no usable status.volumeSize (\"\(backup.status?.volumeSize ?? "")\"); the webhook would size the volume 0 and refuse it",
                hint: "wait for Longhorn to sync the backup from the store")
        }
        var volume = try baseVolume(name: name, namespace: namespace, size: size, options: options, version: version)
        volume.spec.fromBackup = url
        if version.hasMultipleBackupTargets, let target = backup.backupTargetName {
            volume.spec.backupTargetName = target
        }
        return volume
    }

    /// An empty Volume of `sizeBytes`, for a volume that has no backup (or must start empty).
    public static func freshVolume(
        name: String, namespace: String, sizeBytes: Int64, options: VolumeOptions = VolumeOptions(), version: LonghornVersion
    ) throws(LonghornError) -> Volume {
        guard sizeBytes > 0 else {
            throw LonghornError(.invalidArgument, subject: subject(LonghornResources.volumes, namespace, name), detail: "size \(sizeBytes) must be positive")
        }
        return try baseVolume(name: name, namespace: namespace, size: sizeBytes, options: options, version: version)
    }

    private static func baseVolume(name: String, namespace: String, size: Int64, options: VolumeOptions, version: LonghornVersion) throws(LonghornError)
        -> Volume
    {
        let subject = subject(LonghornResources.volumes, namespace, name)
        guard isValidLonghornName(name) else {
            throw LonghornError(.invalidArgument, subject: subject, detail: "is not a name Longhorn accepts (^[a-z0-9][a-z0-9_.-]+$)")
        }
        guard name.count <= maximumVolumeNameLength else {
            throw LonghornError(
                .invalidArgument, subject: subject,
                detail: "is longer than \(maximumVolumeNameLength) characters; Longhorn would silently shorten it and the PV would point nowhere")
        }
        let accessModes = version.atLeast(1, 12) ? ["rwo", "rwx", "rwop"] : ["rwo", "rwx"]
        guard accessModes.contains(options.accessMode) else {
            throw LonghornError(
                .invalidArgument, subject: subject,
                detail: "access mode \"\(options.accessMode)\" is not one of \(accessModes.joined(separator: ", ")) on Longhorn \(version)")
        }
        guard options.numberOfReplicas >= 1 else {
            throw LonghornError(.invalidArgument, subject: subject, detail: "numberOfReplicas must be at least 1")
        }
        var spec = Volume.Spec(
            size: size, frontend: frontend, numberOfReplicas: options.numberOfReplicas,
            accessMode: options.accessMode, dataEngine: dataEngine)
        if version.hasMultipleBackupTargets { spec.backupTargetName = options.backupTargetName }
        return Volume(metadata: ResourceMetadata(name: name, namespace: namespace, labels: options.labels.isEmpty ? nil : options.labels), spec: spec)
    }

    /// A Snapshot CR that really takes a snapshot (`createSnapshot: true`).
    public static func snapshot(name: String, namespace: String, volume: String, labels: [String: String] = [:]) -> Snapshot {
        Snapshot(
            metadata: ResourceMetadata(name: name, namespace: namespace),
            spec: Snapshot.Spec(volume: volume, createSnapshot: true, labels: labels.isEmpty ? nil : labels))
    }

    /// A Backup of `snapshot`, labelled `backup-volume` (every version: ≤ v1.9 refuses it
    /// otherwise) and `backup-target` (v1.8+).
    /// - Throws: `.invalidArgument` for a name Longhorn's validator would refuse.
    public static func backup(
        name: String, namespace: String, snapshot: String, volume: String, target: String = LonghornResources.defaultBackupTarget,
        mode: String? = nil, version: LonghornVersion
    ) throws(LonghornError) -> Backup {
        guard Backup.isValidName(name) else {
            throw LonghornError(
                .invalidArgument, subject: subject(LonghornResources.backups, namespace, name),
                detail: "is not a backup name Longhorn accepts (^[a-z0-9][a-z0-9_.-]+$)", hint: "leave the name out to get backup-<16 hex>")
        }
        var labels = [LonghornLabels.backupVolume: volume]
        if version.hasMultipleBackupTargets { labels[LonghornLabels.backupTarget] = target }
        var spec = Backup.Spec(snapshotName: snapshot)
        if let mode {
            guard version.supportsBackupMode, ["full", "incremental"].contains(mode) else {
                throw LonghornError(
                    .invalidArgument, subject: subject(LonghornResources.backups, namespace, name),
                    detail: "backup mode \"\(mode)\" is not supported on Longhorn \(version) (full/incremental from v1.7)")
            }
            spec.backupMode = mode
        }
        return Backup(metadata: ResourceMetadata(name: name, namespace: namespace, labels: labels), spec: spec)
    }

    /// The merge patch that asks Longhorn to sync a BackupTarget or BackupVolume now rather than
    /// at the next poll: `spec.syncRequestedAt` = `time` in RFC 3339.
    public static func syncRequest(at time: Date) -> JSONValue {
        ["spec": ["syncRequestedAt": .string(LonghornTime.format(time))]]
    }

    /// Longhorn's own rule for names (`util.ValidateName`).
    public static func isValidLonghornName(_ name: String) -> Bool { Backup.isValidName(name) }

    static func subject(_ resource: GroupVersionResource, _ namespace: String?, _ name: String) -> String {
        "\(resource) \(namespace.map { "\($0)/" } ?? "")\(name)"
    }
}
