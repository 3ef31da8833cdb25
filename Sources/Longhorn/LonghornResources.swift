import KubeClient

/// The Longhorn custom resources, always fully qualified as `<plural>.longhorn.io` (v1beta2):
/// bare names such as `backups` collide with other CRDs (Velero's `backups.velero.io`).
public enum LonghornResources {
    public static let group = "longhorn.io"
    public static let version = "v1beta2"
    public static let apiVersion = "longhorn.io/v1beta2"
    /// Where Longhorn installs itself unless told otherwise.
    public static let defaultNamespace = "longhorn-system"
    /// The backup target Longhorn uses for volumes that name none (`DefaultBackupTargetName`).
    public static let defaultBackupTarget = "default"

    public static let volumes = resource("volumes")
    public static let snapshots = resource("snapshots")
    public static let backups = resource("backups")
    public static let backupVolumes = resource("backupvolumes")
    public static let backupTargets = resource("backuptargets")
    public static let settings = resource("settings")
    public static let recurringJobs = resource("recurringjobs")

    private static func resource(_ plural: String) -> GroupVersionResource {
        GroupVersionResource(group: group, version: version, resource: plural, namespaced: true)
    }
}

/// Label keys Longhorn reads and writes. The backup keys are the bare strings, with no
/// `longhorn.io/` prefix (LM `types/types.go`, v1.5 to v1.12).
public enum LonghornLabels {
    /// On Backup and BackupVolume CRs (and restored Volumes): the volume name in the store.
    public static let backupVolume = "backup-volume"
    /// On Backup and BackupVolume CRs, v1.8+: the BackupTarget name.
    public static let backupTarget = "backup-target"
    /// On Snapshot CRs only (added by the snapshot mutator); ignored on Backups.
    public static let snapshotVolume = "longhornvolume"
}

/// The Kubernetes workloads Longhorn must have rolled out before a restore can work.
extension GroupVersionResource {
    public static let daemonSets = GroupVersionResource(group: "apps", version: "v1", resource: "daemonsets", namespaced: true)
}
