import Backupstore
import ClusterExercise
import DRCore
import Foundation
import Longhorn

/// `longhorn-dr backup list`: every backup of the declared volumes as the store holds it (name,
/// time, age, size, completed or still being written) and, with the cluster's objects, as the
/// cluster knows it, with whether the two agree. Read only, no verdict: `assure` judges.
public struct BackupListing: Sendable {
    public struct Row: Sendable, Equatable {
        public var volume: String
        public var backup: String
        /// The backup's `CreatedTime` in the store, else the cluster's `backupCreatedAt`.
        public var createdAt: String
        public var age: Duration?
        /// The volume's size when the backup was taken, in bytes.
        public var size: Int64?
        /// `Completed`, `InProgress`, `damaged: …`, or `-` when the store does not hold it.
        public var store: String
        /// The Backup CR's state (`-` when the cluster has none); nil without the cluster.
        public var cluster: String?

        /// `both`, `store only`, `cluster only`; nil without the cluster.
        public var agreement: String? {
            guard let cluster else { return nil }
            switch (store != "-", cluster != "-") {
            case (true, true): return "both"
            case (true, false): return "store only"
            default: return "cluster only"
            }
        }
    }

    public var target: String
    public var rows: [Row]
    /// Volumes whose backups could not be listed, with why.
    public var problems: [(volume: String, error: DRError)]
    public var withCluster: Bool

    /// Lists each volume's backups (newest first); a volume that cannot be listed is a problem,
    /// the others are still listed.
    public static func read(
        volumes: [String], reader: BackupReader, target: String, cluster: ClusterBackupView?, now: Date
    ) async -> BackupListing {
        var rows: [Row] = []
        var problems: [(String, DRError)] = []
        for volume in volumes {
            var own: [String: Row] = [:]
            do {
                for name in try await reader.listBackups(volume: volume) {
                    var row = Row(volume: volume, backup: name, createdAt: "", store: "-")
                    do {
                        let config = try await reader.backupConfig(volume: volume, backup: name)
                        row.createdAt = config.createdTime
                        row.size = config.size
                        row.store = config.isInProgress ? "InProgress" : "Completed"
                    } catch let error as BackupstoreError where error.code == .invalidConfig {
                        row.store = "damaged: \(error.detail)"
                    }
                    own[name] = row
                }
            } catch let error as BackupstoreError where error.code == .notFound && FailureMapping.awsCause(error) == nil {
                // No folder for the volume: no backups, listed as none.
            } catch {
                problems.append((volume, FailureMapping.drError(error)))
                continue
            }
            if let cluster {
                for backup in cluster.backups where backup.volumeName == volume && (backup.backupTargetName ?? cluster.target) == cluster.target {
                    var row = own[backup.name] ?? Row(volume: volume, backup: backup.name, createdAt: backup.status?.backupCreatedAt ?? "", store: "-")
                    row.cluster = backup.state.isEmpty ? "unsynced" : backup.state
                    own[backup.name] = row
                }
                for name in own.keys where own[name]?.cluster == nil { own[name]?.cluster = "-" }
            }
            let listed = own.values.map { row -> Row in
                var row = row
                if let created = BackupReader.parseCreatedTime(row.createdAt) {
                    row.age = .milliseconds(Int64(now.timeIntervalSince(created) * 1000))
                }
                return row
            }
            rows += listed.sorted { ($0.age ?? .zero, $0.backup) < ($1.age ?? .zero, $1.backup) }
        }
        return BackupListing(target: target, rows: rows, problems: problems, withCluster: cluster != nil)
    }

    public init(target: String, rows: [Row], problems: [(volume: String, error: DRError)], withCluster: Bool) {
        self.target = target
        self.rows = rows
        self.problems = problems
        self.withCluster = withCluster
    }

    /// The worst problem's exit status; `.ok` when every volume was listed.
    public var exitStatus: ExitStatus { problems.map(\.error.status).reduce(.ok, AssuranceReport.worse) }

    public func text() -> String {
        var header = ["VOLUME", "BACKUP", "CREATED", "AGE", "SIZE", "STORE"]
        if withCluster { header += ["CLUSTER", "AGREE"] }
        var table = [header]
        for row in rows {
            var cells = [
                row.volume, row.backup, row.createdAt.isEmpty ? "-" : row.createdAt, row.age.map(DurationText.format) ?? "-",
                row.size.map(ByteText.size) ?? "-", row.store,
            ]
            if withCluster { cells += [row.cluster ?? "-", row.agreement ?? "-"] }
            table.append(cells)
        }
        let widths = header.indices.map { column in table.map { $0[column].count }.max() ?? 0 }
        var lines = table.map { cells in
            cells.enumerated().map { index, cell in index == cells.count - 1 ? cell : cell.padding(toLength: widths[index], withPad: " ", startingAt: 0) }
                .joined(separator: "  ")
        }
        if rows.isEmpty { lines.append("(no backups of the declared volumes in \(target))") }
        for (volume, error) in problems { lines.append("volume \(volume): \(error)") }
        return lines.joined(separator: "\n")
    }

    public func json() -> String {
        let items: [[String: Any]] = rows.map { row in
            [
                "volume": row.volume, "backup": row.backup, "createdAt": row.createdAt, "ageSeconds": row.age.map { $0.components.seconds } ?? NSNull(),
                "sizeBytes": row.size ?? NSNull(), "store": row.store, "cluster": row.cluster ?? NSNull(), "agreement": row.agreement ?? NSNull(),
            ]
        }
        let object: [String: Any] = [
            "target": target, "backups": items, "problems": problems.map { ["volume": $0.volume, "error": "\($0.error)"] },
        ]
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }
}
