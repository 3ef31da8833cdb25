import DRCore
import Foundation

/// What one `assure` run found: a verdict per volume and overall, as text, JSON and Prometheus
/// textfile metrics.
public struct AssuranceReport: Sendable {
    /// Why a volume failed, as a stable code for alerts and scripts.
    public enum Reason: String, Sendable, Codable {
        case noBackup = "no-backup"
        case stale
        case missingBlock = "missing-block"
        case truncatedBlock = "truncated-block"
        case corruptBlock = "corrupt-block"
        /// The backup's or volume's cfg in the store cannot be read as Longhorn writes it.
        case damagedConfig = "damaged-config"
        /// The store could not be read (unreachable, credentials, permissions).
        case store
        /// With `--cross-check`: the cluster's Longhorn has not listed the store recently enough
        /// (its BackupTarget is unavailable, not synced, or behind the store's newest backup).
        case notSynced = "not-synced"
        /// With `--cross-check`: the cluster's newest backup and the store's differ in a way a
        /// sync does not explain (the cluster lists none, or one the store does not hold).
        case clusterMismatch = "cluster-mismatch"
        /// With `--cross-check`: the cluster's Longhorn objects could not be read.
        case cluster
        /// With `--restore-test`: the cluster's Longhorn did not restore the backup into the
        /// scratch volume, or what it restored differs from the backup.
        case restoreTest = "restore-test"
    }

    public struct VolumeResult: Sendable {
        public var volume: String
        public var maxAge: Duration?
        public var backup = ""
        public var backupCreatedAt = ""
        /// With `--cross-check`: the backup the cluster would restore, when it agrees with the store.
        public var clusterBackup: String?
        public var age: Duration?
        public var blocksListed = 0
        public var blocksVerified = 0
        public var blocksSkipped = 0
        /// Bytes fetched from the store (compressed).
        public var bytesRead: Int64 = 0
        /// With `--restore-test`, for the one volume tested this run.
        public var restoreTest: RestoreTest.Outcome?
        public var reasons: [Reason] = []
        public var messages: [String] = []
        /// The exit status its worst failure stands for; `.ok` when it passed.
        public var status: ExitStatus = .ok

        public var passed: Bool { reasons.isEmpty }

        /// Records a restore test's outcome; a failed one fails the volume.
        public mutating func record(_ outcome: RestoreTest.Outcome) {
            restoreTest = outcome
            if !outcome.passed { fail(.restoreTest, outcome.detail, status: outcome.status) }
        }

        mutating func fail(_ reason: Reason, _ message: String, status: ExitStatus) {
            reasons.append(reason)
            messages.append(message)
            self.status = AssuranceReport.worse(self.status, status)
        }
    }

    public var store: String
    public var run: Int
    public var fullEvery: Int
    public var checkedAt: Date
    public var volumes: [VolumeResult]

    public var passed: Bool { volumes.allSatisfy(\.passed) }

    /// 1 when any backup failed its promise (missing, stale, damaged), else 3 for credentials
    /// or tools, else 4 for a store that could not be read; 0 when every volume passed.
    public var exitStatus: ExitStatus { volumes.map(\.status).reduce(.ok, Self.worse) }

    static func worse(_ a: ExitStatus, _ b: ExitStatus) -> ExitStatus {
        let order: [ExitStatus] = [.ok, .infrastructure, .environment, .usage, .verificationFailed]
        return (order.firstIndex(of: a) ?? 0) >= (order.firstIndex(of: b) ?? 0) ? a : b
    }

    public var bytesRead: Int64 { volumes.reduce(0) { $0 + $1.bytesRead } }

    // MARK: - Renderings

    public func text() -> String {
        var lines = [
            "assure \(store): \(passed ? "PASS" : "FAIL") (run \(run), every block re-read at least every \(fullEvery) run\(fullEvery == 1 ? "" : "s"))"
        ]
        for volume in volumes {
            let age = volume.age.map { "age \(DurationText.format($0))" } ?? "age -"
            let limit = volume.maxAge.map { " (maxAge \(DurationText.format($0)))" } ?? " (no maxAge)"
            lines.append(
                "  \(volume.passed ? "PASS" : "FAIL") \(volume.volume): backup \(volume.backup.isEmpty ? "-" : volume.backup), \(age)\(limit), "
                    + "\(volume.blocksVerified) of \(volume.blocksListed) blocks verified, \(volume.blocksSkipped) verified in earlier runs"
                    + (volume.clusterBackup.map { ", the cluster would restore \($0)" } ?? ""))
            if let test = volume.restoreTest, test.passed {
                lines.append("       restore test: \(test.detail) (\(DurationText.format(test.duration)))")
            }
            for message in volume.messages { lines.append("       \(message)") }
        }
        lines.append("  read \(Self.mebibytes(bytesRead)) from the store")
        return lines.joined(separator: "\n")
    }

    public func json() -> String {
        let volumes: [[String: Any]] = volumes.map { volume in
            [
                "volume": volume.volume, "verdict": volume.passed ? "PASS" : "FAIL", "reasons": volume.reasons.map(\.rawValue),
                "messages": volume.messages, "backup": volume.backup, "backupCreatedAt": volume.backupCreatedAt,
                "ageSeconds": volume.age.map { Self.seconds($0) } ?? NSNull(), "maxAgeSeconds": volume.maxAge.map { Self.seconds($0) } ?? NSNull(),
                "blocksListed": volume.blocksListed, "blocksVerified": volume.blocksVerified, "blocksSkipped": volume.blocksSkipped,
                "bytesRead": volume.bytesRead, "clusterBackup": volume.clusterBackup ?? NSNull(),
                "restoreTest": volume.restoreTest.map { test -> [String: Any] in
                    [
                        "verdict": test.passed ? "PASS" : "FAIL", "backup": test.backup, "scratchVolume": test.scratchVolume, "detail": test.detail,
                        "seconds": Self.seconds(test.duration), "leftovers": test.leftovers,
                    ]
                } ?? NSNull(),
            ]
        }
        let object: [String: Any] = [
            "store": store, "verdict": passed ? "PASS" : "FAIL", "run": run, "fullEvery": fullEvery,
            "checkedAt": Self.timestamp(checkedAt), "bytesRead": bytesRead, "exitCode": Int(exitStatus.rawValue), "volumes": volumes,
        ]
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }

    /// The Prometheus textfile-collector format: one gauge per fact, seconds and bytes as base units.
    public func metrics() -> String {
        var lines = [
            "# HELP longhorn_dr_assure_success 1 when every declared volume passed the last assure run, else 0.",
            "# TYPE longhorn_dr_assure_success gauge",
            "longhorn_dr_assure_success \(passed ? 1 : 0)",
            "# HELP longhorn_dr_assure_last_run_timestamp_seconds When the last assure run checked the store.",
            "# TYPE longhorn_dr_assure_last_run_timestamp_seconds gauge",
            "longhorn_dr_assure_last_run_timestamp_seconds \(Int(checkedAt.timeIntervalSince1970))",
            "# HELP longhorn_dr_assure_bytes_read The bytes the last assure run fetched from the store.",
            "# TYPE longhorn_dr_assure_bytes_read gauge",
            "longhorn_dr_assure_bytes_read \(bytesRead)",
        ]
        let perVolume: [(String, String, String, (VolumeResult) -> String?)] = [
            ("longhorn_dr_assure_volume_success", "1 when the volume passed the last assure run.", "gauge", { $0.passed ? "1" : "0" }),
            ("longhorn_dr_backup_age_seconds", "Age of the volume's newest completed backup.", "gauge", { $0.age.map { String(Self.seconds($0)) } }),
            (
                "longhorn_dr_backup_max_age_seconds", "The volume's maxAge (its promised recovery point).", "gauge",
                { $0.maxAge.map { String(Self.seconds($0)) } }
            ),
            ("longhorn_dr_assure_blocks_verified", "Blocks the last run fetched and verified.", "gauge", { String($0.blocksVerified) }),
            ("longhorn_dr_assure_blocks_listed", "Blocks the newest backup lists.", "gauge", { String($0.blocksListed) }),
            (
                "longhorn_dr_restore_test_success", "1 when the last restore test of the volume (in this run) read back the backup's data.", "gauge",
                { $0.restoreTest.map { $0.passed ? "1" : "0" } }
            ),
            (
                "longhorn_dr_restore_test_duration_seconds", "How long this run's restore test of the volume took.", "gauge",
                { $0.restoreTest.map { String(Self.seconds($0.duration)) } }
            ),
        ]
        for (name, help, type, value) in perVolume {
            let samples = volumes.compactMap { volume in value(volume).map { "\(name){volume=\"\(Self.label(volume.volume))\"} \($0)" } }
            // A family without samples (no restore test this run) is left out.
            if !samples.isEmpty { lines += ["# HELP \(name) \(help)", "# TYPE \(name) \(type)"] + samples }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    static func seconds(_ duration: Duration) -> Int64 { duration.components.seconds }

    static func label(_ value: String) -> String {
        value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"").replacingOccurrences(of: "\n", with: "\\n")
    }

    static func timestamp(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: date)
    }

    static func mebibytes(_ bytes: Int64) -> String { String(format: "%.1f MiB", Double(bytes) / 1_048_576) }
}
