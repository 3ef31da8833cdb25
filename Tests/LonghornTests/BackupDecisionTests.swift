import Foundation
import Testing

@testable import Longhorn

/// The "which backup?" decision on objects as Longhorn shows them, every branch without a server.
@Suite struct BackupDecisionTests {
    static let requested = Fixtures.time("2026-11-27T03:00:00Z")

    func decide(
        _ selection: BackupSelection = .latest, target: BackupTarget? = Fixtures.target(), volumes: [BackupVolume], backups: [Backup],
        volume: String = "dr-exercise-data"
    ) throws(LonghornError) -> BackupLookup {
        try LonghornClient.decideBackup(
            volume: volume, target: "default", selection: selection, syncedAfter: Self.requested,
            backupTarget: target, backupVolumes: volumes, backups: backups, namespace: Fixtures.namespace)
    }

    static let bv = Fixtures.backupVolume("dr-exercise-data-77a0e0e7", volume: "dr-exercise-data", lastBackup: "backup-0000000000000002")
    static let older = Fixtures.backup("backup-0000000000000001", snapshotAt: "2026-11-20T10:00:00Z")
    static let newer = Fixtures.backup("backup-0000000000000002", snapshotAt: "2026-11-25T10:00:00Z")

    @Test func targetGatesComeFirst() throws {
        #expect(try decide(target: nil, volumes: [], backups: []) == .notSynced(.targetMissing(target: "default")))
        #expect(
            try decide(target: Fixtures.target(available: false, message: "cannot reach s3"), volumes: [], backups: [])
                == .notSynced(.targetUnavailable(target: "default", reason: "cannot reach s3")))
        let stale = Fixtures.target(syncedAt: "2026-11-27T02:59:59Z")
        #expect(
            try decide(target: stale, volumes: [], backups: [])
                == .notSynced(.targetNotSynced(target: "default", lastSyncedAt: Fixtures.time("2026-11-27T02:59:59Z"), wanted: Self.requested)))
        #expect(
            try decide(target: Fixtures.target(syncedAt: nil), volumes: [], backups: [])
                == .notSynced(.targetNotSynced(target: "default", lastSyncedAt: nil, wanted: Self.requested)))
    }

    @Test func syncedTargetWithoutBackupVolumeIsConfirmedNone() throws {
        let other = Fixtures.backupVolume("other-1a2b3c4d", volume: "other")
        guard case .confirmedNone(let evidence) = try decide(volumes: [other], backups: []) else {
            Issue.record("expected confirmedNone")
            return
        }
        #expect(evidence.backupVolume == nil)
        #expect(evidence.targetSyncedAt == Fixtures.time("2026-11-27T03:00:05Z"))
        #expect(evidence.description.contains("holds no backup volume for dr-exercise-data"))
    }

    @Test func unsyncedBackupVolumeIsNotSynced() throws {
        let fresh = Fixtures.backupVolume("dr-exercise-data-77a0e0e7", volume: "dr-exercise-data", syncedAt: nil)
        #expect(
            try decide(volumes: [fresh], backups: [])
                == .notSynced(.backupVolumeNotSynced(name: "dr-exercise-data-77a0e0e7", lastSyncedAt: nil, wanted: Self.requested)))
    }

    @Test func latestIsNewestCompletedAndWaitsForLastBackupName() throws {
        #expect(try decide(volumes: [Self.bv], backups: [Self.newer, Self.older]) == .found(Self.newer, backupVolume: Self.bv))
        // lastBackupName names a backup whose CR is not there yet: not synced, not "use the older one".
        #expect(
            try decide(volumes: [Self.bv], backups: [Self.older]) == .notSynced(.backupNotSynced(name: "backup-0000000000000002", state: "no Backup CR yet")))
        let pulled = Fixtures.backup("backup-0000000000000002", state: "")
        #expect(try decide(volumes: [Self.bv], backups: [Self.older, pulled]) == .notSynced(.backupNotSynced(name: "backup-0000000000000002", state: "")))
        // A failed newest backup is passed over for the newest Completed one.
        let failed = Fixtures.backup("backup-0000000000000003", state: "Error", snapshotAt: "2026-11-26T10:00:00Z")
        #expect(try decide(volumes: [Self.bv], backups: [Self.older, Self.newer, failed]) == .found(Self.newer, backupVolume: Self.bv))
    }

    /// Completed is not enough: the restore webhook also needs the URL, the size and (v1.8+) the target.
    @Test func completedButHalfSyncedIsNotSynced() throws {
        var noSize = Self.newer
        noSize.status?.volumeSize = ""
        #expect(
            try decide(volumes: [Self.bv], backups: [Self.older, noSize])
                == .notSynced(.backupNotSynced(name: "backup-0000000000000002", state: "Completed without status.volumeSize")))
        var noTarget = Self.newer
        noTarget.status?.backupTargetName = nil
        let lookup = try LonghornClient.decideBackup(
            volume: "dr-exercise-data", target: "default", selection: .latest, syncedAfter: Self.requested,
            backupTarget: Fixtures.target(), backupVolumes: [Self.bv], backups: [Self.older, noTarget], namespace: Fixtures.namespace,
            requireBackupTargetName: true)
        #expect(lookup == .notSynced(.backupNotSynced(name: "backup-0000000000000002", state: "Completed without status.backupTargetName")))
        #expect(try decide(volumes: [Self.bv], backups: [Self.older, noTarget]) == .found(noTarget, backupVolume: Self.bv), "≤ v1.7 has no such field")
    }

    @Test func syncedEmptyBackupVolumeIsConfirmedNone() throws {
        let empty = Fixtures.backupVolume("dr-exercise-data", volume: nil, lastBackup: nil)
        guard case .confirmedNone(let evidence) = try decide(volumes: [empty], backups: []) else {
            Issue.record("expected confirmedNone")
            return
        }
        #expect(evidence.backupVolume == "dr-exercise-data")
    }

    @Test func backupsOfOtherVolumesAndTargetsAreIgnored() throws {
        let otherVolume = Fixtures.backup("backup-00000000000000aa", volume: "other", snapshotAt: "2026-11-26T00:00:00Z")
        let otherTarget = Fixtures.backup("backup-00000000000000bb", snapshotAt: "2026-11-26T00:00:00Z", target: "secondary")
        #expect(try decide(volumes: [Self.bv], backups: [Self.older, Self.newer, otherVolume, otherTarget]) == .found(Self.newer, backupVolume: Self.bv))
    }

    @Test func pinnedNameIsExactNeverAFallback() throws {
        #expect(
            try decide(.named("backup-0000000000000001"), volumes: [Self.bv], backups: [Self.older, Self.newer]) == .found(Self.older, backupVolume: Self.bv))
        let missing = #expect(throws: LonghornError.self) {
            try decide(.named("backup-00000000000000ff"), volumes: [Self.bv], backups: [Self.older, Self.newer])
        }
        #expect(missing?.code == .backupNotFound)
        #expect(missing?.detail.contains("backup-0000000000000001 (Completed), backup-0000000000000002 (Completed)") == true)
        #expect(missing?.hint?.contains("never falls back") == true)
        let noFolder = #expect(throws: LonghornError.self) { try decide(.named("backup-0000000000000001"), volumes: [], backups: []) }
        #expect(noFolder?.code == .backupNotFound)
        let failed = Fixtures.backup("backup-0000000000000009", state: "Error")
        let failure = #expect(throws: LonghornError.self) { try decide(.named("backup-0000000000000009"), volumes: [Self.bv], backups: [failed]) }
        #expect(failure?.code == .backupFailed)
        let foreign = Fixtures.backup("backup-0000000000000007", volume: "other")
        #expect(
            #expect(throws: LonghornError.self) { try decide(.named("backup-0000000000000007"), volumes: [Self.bv], backups: [foreign]) }?.code == .conflict)
        let pulled = Fixtures.backup("backup-0000000000000008", state: "")
        #expect(
            try decide(.named("backup-0000000000000008"), volumes: [Self.bv], backups: [pulled])
                == .notSynced(.backupNotSynced(name: "backup-0000000000000008", state: "")))
    }

    @Test func asOfPicksNewestAtOrBefore() throws {
        let atNewer = Fixtures.time("2026-11-25T10:00:00Z")
        #expect(try decide(.asOf(atNewer), volumes: [Self.bv], backups: [Self.older, Self.newer]) == .found(Self.newer, backupVolume: Self.bv))
        #expect(try decide(.asOf(atNewer - 1), volumes: [Self.bv], backups: [Self.older, Self.newer]) == .found(Self.older, backupVolume: Self.bv))
        let tooEarly = #expect(throws: LonghornError.self) {
            try decide(.asOf(Fixtures.time("2026-01-01T00:00:00Z")), volumes: [Self.bv], backups: [Self.older, Self.newer])
        }
        #expect(tooEarly?.code == .backupNotFound)
        // Backup time falls back to backupCreatedAt when the snapshot time is missing.
        var uploadOnly = Fixtures.backup("backup-0000000000000005", snapshotAt: nil)
        uploadOnly.status?.backupCreatedAt = "2026-11-21T00:00:00Z"
        #expect(
            try decide(.asOf(Fixtures.time("2026-11-22T00:00:00Z")), volumes: [Self.bv], backups: [Self.older, uploadOnly, Self.newer])
                == .found(uploadOnly, backupVolume: Self.bv))
    }

    @Test func duplicateBackupVolumesAreAnErrorNamingThem() throws {
        let first = Fixtures.backupVolume("dr-exercise-data-1a2b3c4d", volume: "dr-exercise-data")
        let second = Fixtures.backupVolume("dr-exercise-data-77a0e0e7", volume: "dr-exercise-data")
        let error = #expect(throws: LonghornError.self) { try decide(volumes: [first, second], backups: []) }
        #expect(error?.code == .ambiguous)
        #expect(error?.detail.contains("dr-exercise-data-1a2b3c4d, dr-exercise-data-77a0e0e7") == true)
    }

    /// Upgraded clusters hold every naming scheme at once (section 1.2).
    @Test func backupVolumeMatchingAcrossNamingSchemes() throws {
        let legacy = Fixtures.backupVolume("vol-a", volume: nil)  // ≤ v1.7: name only
        let upgraded = BackupVolume(
            metadata: ResourceMetadata(name: "vol-b", labels: ["backup-volume": "vol-b", "backup-target": "default"]),
            spec: BackupVolume.Spec(volumeName: "vol-b", backupTargetName: "default"))
        let random = Fixtures.backupVolume("vol-c-9f8e7d6c", volume: "vol-c")
        let labelOnly = BackupVolume(metadata: ResourceMetadata(name: "vol-d-12345678", labels: ["backup-volume": "vol-d", "backup-target": "default"]))
        let otherTarget = Fixtures.backupVolume("vol-c-0badf00d", volume: "vol-c", target: "secondary")
        let all = [legacy, upgraded, random, labelOnly, otherTarget]
        func match(_ volume: String, _ target: String = "default") throws -> String? {
            try LonghornClient.matchingBackupVolume(volume: volume, target: target, in: all, namespace: "longhorn-system")?.name
        }
        #expect(try match("vol-a") == "vol-a")
        #expect(try match("vol-b") == "vol-b")
        #expect(try match("vol-c") == "vol-c-9f8e7d6c")
        #expect(try match("vol-c", "secondary") == "vol-c-0badf00d")
        #expect(try match("vol-d") == "vol-d-12345678")
        #expect(try match("vol-c-9f8e7d6c") == nil, "a v1.8+ CR name is not a volume name")
        #expect(try match("missing") == nil)
    }
}
