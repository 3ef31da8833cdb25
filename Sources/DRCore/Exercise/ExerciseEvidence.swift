import Foundation

// What each phase of the exercise proves, as typed values: the environment returns these, the
// runner checks them and journals their `facts` (the journal's stable JSON form, which the
// report and `--resume` read). Conversion goes one way only, here.

/// Preflight: what was checked, and what reaching the cluster and its store gives away.
public struct PreflightFacts: Sendable, Equatable {
    public var apiServer: String
    public var longhorn: String
    public var backupTarget: String
    /// The store the store check reads (the target's URL).
    public var store: String?
    /// The bootstrap's restore Job on the current cluster (`Complete`), when checked.
    public var restoreJob: String?
    /// The Flux gate (`Ready`, or "no Flux on this cluster: not checked").
    public var fluxGate: String?
    /// Plain http to another machine, certificate checks off: shown in the report.
    public var warnings: [String]

    public init(
        apiServer: String, longhorn: String, backupTarget: String, store: String? = nil, restoreJob: String? = nil,
        fluxGate: String? = nil, warnings: [String] = []
    ) {
        self.apiServer = apiServer
        self.longhorn = longhorn
        self.backupTarget = backupTarget
        self.store = store
        self.restoreJob = restoreJob
        self.fluxGate = fluxGate
        self.warnings = warnings
    }

    public var facts: [String: String] {
        var facts = ["apiServer": apiServer, "longhorn": longhorn, "backupTarget": backupTarget]
        facts["store"] = store
        facts["restoreJob"] = restoreJob
        facts["fluxGate"] = fluxGate
        if !warnings.isEmpty { facts[ExerciseReport.securityWarnings] = warnings.joined(separator: "\n") }
        return facts
    }
}

/// Setup, per workload: its pod runs on the well-known volume.
public struct WorkloadSetup: Sendable, Equatable {
    public var pod: String
    /// What the setup's restore decided for the volume (`keep-existing`, `restore`, `fresh`).
    public var volumeDecision: String

    public init(pod: String, volumeDecision: String) {
        self.pod = pod
        self.volumeDecision = volumeDecision
    }

    public var facts: [String: String] { ["pod": pod, "volumeDecision": volumeDecision] }
}

/// The store check of one backup, read straight from the store.
public struct StoreCheckResult: Sendable, Equatable {
    public var blocksVerified: Int
    public var bytesVerified: Int64
    /// SHA-256 of the sentinel file found in the backup's filesystem.
    public var sentinelSHA256: String
    public var sentinelBytes: Int64
    public var store: String

    public init(blocksVerified: Int, bytesVerified: Int64, sentinelSHA256: String, sentinelBytes: Int64, store: String) {
        self.blocksVerified = blocksVerified
        self.bytesVerified = bytesVerified
        self.sentinelSHA256 = sentinelSHA256
        self.sentinelBytes = sentinelBytes
        self.store = store
    }

    public var facts: [String: String] {
        [
            "blocksVerified": String(blocksVerified), "bytesVerified": String(bytesVerified), "storeSentinelSHA256": sentinelSHA256,
            "storeSentinelBytes": String(sentinelBytes), "store": store,
        ]
    }
}

/// A volume's backups as the cluster lists them, just before destroy.
public struct BackupInventory: Sendable, Equatable {
    public var backups: Int
    public var newestBackup: String?
    public var newestBackupAt: String?
    /// The newest backup a recurring job made (Longhorn labels those `RecurringJob`).
    public var newestScheduledBackup: String?
    public var newestScheduledBackupAt: String?

    public init(
        backups: Int, newestBackup: String? = nil, newestBackupAt: String? = nil, newestScheduledBackup: String? = nil,
        newestScheduledBackupAt: String? = nil
    ) {
        self.backups = backups
        self.newestBackup = newestBackup
        self.newestBackupAt = newestBackupAt
        self.newestScheduledBackup = newestScheduledBackup
        self.newestScheduledBackupAt = newestScheduledBackupAt
    }

    public var facts: [String: String] {
        var facts = ["backups": String(backups)]
        facts["newestBackup"] = newestBackup
        facts["newestBackupAt"] = newestBackupAt
        facts["newestScheduledBackup"] = newestScheduledBackup
        facts[ExerciseReport.newestScheduledBackupAt] = newestScheduledBackupAt
        return facts
    }
}

/// The cluster answering after the rebuild: the cluster's part of the rebuild proof.
public struct RebuiltCluster: Sendable, Equatable {
    public var clusterFingerprint: String
    /// When its bootstrap's restore began (RFC 3339).
    public var restoreStartedAt: String
    /// The bootstrap's restore Job (`Complete`), when the environment waited for one.
    public var restoreJob: String?
    /// What the Flux health gate saw ("5 Kustomizations and 2 HelmReleases Ready", "not installed").
    public var flux: String?
    /// What the Alertmanager gate saw ("no alert firing", "1 allowed alert firing: Watchdog");
    /// `nil` when the config names no Alertmanager.
    public var alertmanager: String?

    public init(clusterFingerprint: String, restoreStartedAt: String, restoreJob: String? = nil, flux: String? = nil, alertmanager: String? = nil) {
        self.clusterFingerprint = clusterFingerprint
        self.restoreStartedAt = restoreStartedAt
        self.restoreJob = restoreJob
        self.flux = flux
        self.alertmanager = alertmanager
    }

    public var facts: [String: String] {
        var facts = ["clusterFingerprint": clusterFingerprint, "restoreStartedAt": restoreStartedAt]
        facts["restoreJob"] = restoreJob
        facts["flux"] = flux
        facts["alertmanager"] = alertmanager
        return facts
    }
}

/// A workload on the rebuilt cluster: its row in the orchestrator's status, and its pod.
public struct RestoredWorkload: Sendable, Equatable {
    public var pod: String?
    /// `restore`, `fresh`, `keep-existing`, `fail`; empty when the status lists no such volume.
    public var restoreDecision: String
    public var restoredFrom: String
    public var restoreMessage: String
    public var restoreSummary: String?
    public var restoreStatusStartedAt: String?
    public var restoreDuration: String?

    public init(
        pod: String? = nil, restoreDecision: String, restoredFrom: String, restoreMessage: String, restoreSummary: String? = nil,
        restoreStatusStartedAt: String? = nil, restoreDuration: String? = nil
    ) {
        self.restoreDuration = restoreDuration
        self.pod = pod
        self.restoreDecision = restoreDecision
        self.restoredFrom = restoredFrom
        self.restoreMessage = restoreMessage
        self.restoreSummary = restoreSummary
        self.restoreStatusStartedAt = restoreStatusStartedAt
    }

    public var facts: [String: String] {
        var facts = ["restoreDecision": restoreDecision, "restoredFrom": restoredFrom, "restoreMessage": restoreMessage]
        facts["pod"] = pod
        facts["restoreSummary"] = restoreSummary
        facts["restoreStatusStartedAt"] = restoreStatusStartedAt
        facts["restoreDuration"] = restoreDuration
        return facts
    }
}

/// How long the running phase may still take. The runner alone owns budgets: it sets this for
/// the phase it runs, and an environment sizes its own waits from it (ending a little before, so
/// its own message, saying what was missing, is reported rather than a bare timeout).
public enum PhaseBudget {
    @TaskLocal public static var deadline: ContinuousClock.Instant?

    /// What is left of the running phase's budget, less `margin`; at least a second. Without a
    /// running phase (a caller outside the runner), `fallback`.
    public static func remaining(margin: Duration = .seconds(2), fallback: Duration = .seconds(300)) -> Duration {
        guard let deadline else { return fallback }
        return max(.seconds(1), ContinuousClock.now.duration(to: deadline) - margin)
    }
}
