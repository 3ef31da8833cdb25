import Foundation

/// What the restore orchestrator restores, read from a ConfigMap kept in git.
///
/// Built only through `ConfigLoader`, which checks every field; a value of this type is valid.
public struct RestoreConfig: Sendable, Equatable {
    public var longhornNamespace: String
    /// The BackupTarget CR whose backups are restored (`default` unless you run several).
    public var backupTarget: String
    /// How long to wait for the backup target's first sync before failing. Never "no backup"
    /// on a timeout: an unsynced target proves nothing.
    public var syncTimeout: Duration
    /// How long one volume's restore may take.
    public var restoreTimeout: Duration
    /// How many volumes are restored at once.
    public var concurrency: Int
    /// The cluster-wide opt-out for fresh clusters.
    public var skipFlag: SkipFlag
    /// The ConfigMap (in `longhornNamespace`) where each run records its outcome per volume.
    public var statusConfigMap: String
    public var volumes: [Volume]

    public init(
        longhornNamespace: String, backupTarget: String, syncTimeout: Duration, restoreTimeout: Duration, concurrency: Int,
        skipFlag: SkipFlag, statusConfigMap: String = Defaults.statusConfigMap, volumes: [Volume]
    ) {
        self.longhornNamespace = longhornNamespace
        self.backupTarget = backupTarget
        self.syncTimeout = syncTimeout
        self.restoreTimeout = restoreTimeout
        self.concurrency = concurrency
        self.skipFlag = skipFlag
        self.statusConfigMap = statusConfigMap
        self.volumes = volumes
    }

    public struct SkipFlag: Sendable, Equatable {
        public var namespace: String
        public var configMap: String
        public var key: String

        public init(namespace: String, configMap: String, key: String) {
            self.namespace = namespace
            self.configMap = configMap
            self.key = key
        }

        /// What the flag's value means: no ConfigMap or no key is "not set"; otherwise the value
        /// must be exactly `true` or `false`. Anything else ("yes", "True", a typo) is refused
        /// rather than guessed: read one way it would skip restores the user wanted, read the
        /// other it would restore over a fresh start the user asked for.
        public func isSet(value: String?) throws(DRError) -> Bool {
            switch value {
            case nil, "false": return false
            case "true": return true
            case let other?:
                throw DRError(
                    .usage, subject: "skip flag \(namespace)/\(configMap) key \(key)",
                    detail: "is \"\(other.prefix(64))\"; it must be exactly \"true\" or \"false\"",
                    hint:
                        "set it with kubectl -n \(namespace) patch configmap \(configMap) --type merge -p '{\"data\":{\"\(key)\":\"false\"}}' (or \"true\" for fresh volumes), then run the Job again"
                )
            }
        }
    }

    /// A well-known volume: a fixed Longhorn volume name bound to a fixed PVC.
    public struct Volume: Sendable, Equatable {
        public var name: String
        public var pvcNamespace: String
        public var pvcName: String
        public var size: ByteQuantity
        public var replicas: Int
        public var storageClass: String
        public var fsType: FilesystemType
        public var accessMode: AccessMode
        public var restore: RestorePolicy
        public var onMissingBackup: MissingBackupAction
        /// The recovery point this volume promises: `longhorn-dr assure` fails it when its newest
        /// completed backup is older. nil: no promise (the age is reported, not judged).
        public var maxAge: Duration?

        public init(
            name: String, pvcNamespace: String, pvcName: String, size: ByteQuantity, replicas: Int, storageClass: String,
            fsType: FilesystemType, accessMode: AccessMode, restore: RestorePolicy, onMissingBackup: MissingBackupAction,
            maxAge: Duration? = nil
        ) {
            self.name = name
            self.pvcNamespace = pvcNamespace
            self.pvcName = pvcName
            self.size = size
            self.replicas = replicas
            self.storageClass = storageClass
            self.fsType = fsType
            self.accessMode = accessMode
            self.restore = restore
            self.onMissingBackup = onMissingBackup
            self.maxAge = maxAge
        }
    }

    public enum FilesystemType: String, Sendable, CaseIterable { case ext4, xfs }

    public enum AccessMode: String, Sendable, CaseIterable {
        case readWriteOnce = "ReadWriteOnce"
        case readWriteOncePod = "ReadWriteOncePod"
        case readWriteMany = "ReadWriteMany"

        /// Longhorn's own spelling in `Volume.spec.accessMode`.
        public var longhornValue: String {
            switch self {
            case .readWriteOnce, .readWriteOncePod: "rwo"
            case .readWriteMany: "rwx"
            }
        }
    }

    /// Which backup a volume comes back from.
    public enum RestorePolicy: Sendable, Equatable {
        /// The newest Completed backup.
        case latest
        /// Exactly this Backup CR name; a missing one is an error, never a fallback.
        case backup(String)
        /// The newest Completed backup taken at or before this time.
        case asOf(Date)
    }

    public enum MissingBackupAction: String, Sendable, CaseIterable {
        /// Create an empty volume, but only once the target has synced and shows no backup.
        case fresh
        /// Fail the Job: this volume must never come up empty.
        case fail
    }
}

extension RestoreConfig {
    public enum Defaults {
        public static let longhornNamespace = "longhorn-system"
        public static let backupTarget = "default"
        public static let syncTimeout: Duration = .seconds(10 * 60)
        public static let restoreTimeout: Duration = .seconds(30 * 60)
        public static let concurrency = 4
        public static let skipFlag = SkipFlag(namespace: "flux-system", configMap: "cluster-config", key: "skip_backup_restore")
        public static let statusConfigMap = "longhorn-dr-restore-status"
        public static let replicas = 3
        public static let storageClass = "longhorn"
        public static let fsType = FilesystemType.ext4
        public static let accessMode = AccessMode.readWriteOnce
        public static let onMissingBackup = MissingBackupAction.fresh
        /// The ConfigMap data key that holds the restore config.
        public static let configMapKey = "restore.yaml"
    }
}
