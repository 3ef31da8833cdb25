import Foundation
import KubeClient
import KubeModels
import SimulatorTestSupport
import Synchronization
import Testing

@testable import Longhorn

/// The restore path against the simulated API server with each release's real CRDs, the test
/// playing Longhorn's controllers.
@Suite(.serialized) struct LonghornClientRestoreTests {
    @Test(arguments: LonghornCRDs.releases)
    func restoreFromTheLatestBackup(release: String) async throws {
        try await LonghornSimulator.run(release: release) { sim in
            let longhorn = try await sim.longhorn()
            #expect(longhorn.version == sim.version, "detected from current-longhorn-version")
            try await sim.rollOutWorkloads()
            try await sim.configureBackupTarget()
            #expect(try await longhorn.backupTargetURL() == "s3://dr-bucket@us-east-1/longhorn")

            // Readiness: the client asks for a sync; "Longhorn" answers it.
            async let answered: Void = sim.syncBackupTargetWhenAsked()
            let readiness = try await longhorn.waitUntilReadyForRestore(timeout: .seconds(120))
            try await answered
            #expect(readiness.target.isAvailable)
            let requested = LonghornTime.format(readiness.syncRequestedAt)

            // The store has a backup of dr-exercise-data; BackupVolume and Backup come in later hops.
            #expect(
                try await longhorn.findBackup(volume: "dr-exercise-data", syncedAfter: readiness.syncRequestedAt)
                    == .confirmedNone(NoBackupEvidence(volume: "dr-exercise-data", target: "default", targetSyncedAt: readiness.syncRequestedAt)),
                "synced target, no backup volume: confirmed none")
            try await sim.pullBackup(volume: "dr-exercise-data", backup: "backup-00000000000000a1", syncedAt: requested, snapshotAt: "2026-11-20T10:00:00Z")
            try await sim.pullBackup(volume: "dr-exercise-data", backup: "backup-00000000000000a2", syncedAt: requested, snapshotAt: "2026-11-25T10:00:00Z")
            let lookup = try await longhorn.waitForBackupDecision(volume: "dr-exercise-data", syncedAfter: readiness.syncRequestedAt, timeout: .seconds(120))
            guard case .found(let backup, let backupVolume) = lookup else {
                Issue.record("expected a backup, got \(lookup)")
                return
            }
            #expect(backup.name == "backup-00000000000000a2")
            if let expected = sim.version.expectedBackupVolumeName(volume: "dr-exercise-data") { #expect(backupVolume.name == expected) }

            // Restore, watching the real state sequence.
            let volume = try await longhorn.createRestoreVolume(name: "dr-exercise-data", from: backup)
            #expect(volume.spec.fromBackup == backup.status?.url)
            let phases = Collector<RestoreProgress.Phase>()
            async let restored = longhorn.waitForRestore("dr-exercise-data", timeout: .seconds(120)) { progress in
                phases.appendChange(progress.phase)
            }
            let steps: [JSONValue] = [
                ["state": "creating"],
                ["state": "detached", "robustness": "unknown"],
                ["restoreInitiated": true, "restoreRequired": true, "state": "attaching"],
                [
                    "state": "attached", "robustness": "healthy",
                    "conditions": [["type": "Restore", "status": "True", "reason": "RestoreInProgress", "message": ""]],
                ],
                ["restoreRequired": false, "conditions": [["type": "Restore", "status": "False", "reason": "", "message": ""]]],
                ["state": "detaching"],
                ["state": "detached", "robustness": "unknown"],
            ]
            try await sim.watchOpened(on: "volumes")
            for step in steps {
                try await Task.sleep(for: .milliseconds(20))
                try await sim.setStatus(LonghornResources.volumes, "dr-exercise-data", step)
                // The waiter's informer coalesces updates: let it see the restore running before
                // it ends, however slowly this machine serves it.
                guard step["conditions"]?.arrayValue?.first?["reason"] == "RestoreInProgress" else { continue }
                let deadline = ContinuousClock.now + .seconds(120)
                while !phases.values.contains(.restoring), ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
            }
            let done = try await restored
            #expect(done.status?.state == "detached")
            #expect(done.status?.restoreRequired == false)
            let seen = phases.values
            #expect(seen.last == .done)
            #expect(seen.contains(.restoring))
            #expect(seen.firstIndex(of: .notStarted) ?? 99 < seen.firstIndex(of: .restoring) ?? -1, "\(seen)")

            // Idempotent: asking again adopts the same restore.
            #expect(try await longhorn.createRestoreVolume(name: "dr-exercise-data", from: backup).name == "dr-exercise-data")

            // The PV, pre-bound to the declared claim.
            let request = PersistentVolumeRequest(
                volumeName: "dr-exercise-data", capacityBytes: try #require(backup.volumeSizeBytes),
                storageClassName: "longhorn", claim: ClaimReference(namespace: "dr-exercise", name: "dr-exercise-data"))
            #expect(try await longhorn.ensurePersistentVolume(request) == .created)
            #expect(try await longhorn.ensurePersistentVolume(request) == .unchanged)

            // What reached the server matches this release's CRD schema.
            try expectRecordedObjectsValid(sim)
            let createdVolumes = sim.recorder.created("volumes")
            #expect(createdVolumes.count == 1)
            #expect(createdVolumes.first?[path: ["spec", "size"]] == "1073741824")
            #expect(createdVolumes.first?[path: ["spec", "frontend"]] == "blockdev")
        }
    }

    @Test(arguments: LonghornCRDs.releases)
    func freshVolumeAndPV(release: String) async throws {
        try await LonghornSimulator.run(release: release) { sim in
            let longhorn = try await sim.longhorn()
            let volume = try await longhorn.createFreshVolume(
                name: "scratch", sizeBytes: 2_147_483_648,
                options: VolumeOptions(numberOfReplicas: 2, accessMode: "rwx"))
            #expect(volume.spec.fromBackup == nil)
            #expect(volume.spec.size == 2_147_483_648)
            #expect(try await longhorn.createFreshVolume(name: "scratch", sizeBytes: 2_147_483_648).name == "scratch", "adopted on a re-run")
            let error = await expectLonghornError { _ = try await longhorn.createRestoreVolume(name: "scratch", from: Fixtures.backup()) }
            #expect(error?.code == .conflict, "a fresh volume is never turned into a restore")
            try expectRecordedObjectsValid(sim)
        }
    }

    @Test func restoreFailsFastOnRestoreFailure() async throws {
        try await LonghornSimulator.run(release: "v1.10.2") { sim in
            let longhorn = try await sim.longhorn()
            _ = try await longhorn.createRestoreVolume(name: "doomed", from: Fixtures.backup())
            async let outcome: LonghornError? = expectLonghornError { _ = try await longhorn.waitForRestore("doomed", timeout: .seconds(300)) }
            try await Task.sleep(for: .milliseconds(100))
            try await sim.setStatus(LonghornResources.volumes, "doomed", ["state": "attached", "restoreInitiated": true, "restoreRequired": true])
            try await sim.setStatus(
                LonghornResources.volumes, "doomed",
                [
                    "robustness": "faulted",
                    "conditions": [
                        [
                            "type": "Restore", "status": "False",
                            "reason": "RestoreFailure", "message": "All replica restore failed and the volume became Faulted",
                        ]
                    ],
                ])
            let error = await outcome
            #expect(error?.code == .restoreFailed, "fails at Longhorn's RestoreFailure, not at the timeout")
            #expect(error?.detail.contains("All replica restore failed") == true, "Longhorn's own words")
            #expect(error?.hint != nil)
        }
    }

    @Test func restoreTimeoutSaysWhereItIs() async throws {
        try await LonghornSimulator.run(release: "v1.9.2") { sim in
            let longhorn = try await sim.longhorn()
            _ = try await longhorn.createRestoreVolume(name: "slow", from: Fixtures.backup())
            try await sim.setStatus(
                LonghornResources.volumes, "slow", ["state": "attached", "robustness": "healthy", "restoreInitiated": true, "restoreRequired": true])
            let error = await expectLonghornError { _ = try await longhorn.waitForRestore("slow", timeout: .milliseconds(400)) }
            #expect(error?.code == .timeout)
            #expect(error?.detail.contains("restoring (state attached") == true, "\(error?.detail ?? "")")
            #expect(error?.hint?.contains("raise the restore timeout") == true)
        }
    }

    @Test func notSyncedIsNeverNoBackup() async throws {
        try await LonghornSimulator.run(release: "v1.12.1") { sim in
            let longhorn = try await sim.longhorn()
            try await sim.configureBackupTarget()
            let requested = try await longhorn.requestBackupTargetSync()
            // The target has not synced since the request: a lookup must not say "none".
            #expect(
                try await longhorn.findBackup(volume: "dr-exercise-data", syncedAfter: requested)
                    == .notSynced(.targetUnavailable(target: "default", reason: nil)))
            let reasons = Collector<String>()
            let error = await expectLonghornError {
                _ = try await longhorn.waitForBackupDecision(volume: "dr-exercise-data", syncedAfter: requested, timeout: .seconds(5)) { reason in
                    reasons.append(reason.description)
                }
            }
            #expect(error?.code == .timeout)
            #expect(error?.detail.contains("BackupTarget default is not available") == true)
            #expect(reasons.values.count >= 1)

            // The target syncs; the BackupVolume exists but lags (Longhorn lists it in a later
            // pass): the wait keeps waiting, never patches the BackupVolume itself (the restore
            // Job is not granted that), and finds the backup once "Longhorn" syncs it.
            let stamp = LonghornTime.format(requested)
            try await sim.setStatus(LonghornResources.backupTargets, "default", ["available": true, "lastSyncedAt": .string(stamp)])
            try await sim.pullBackup(volume: "dr-exercise-data", backup: "backup-00000000000000b1", syncedAt: "2026-01-01T00:00:00Z")
            let bvName = LonghornVersion.hashedBackupVolumeName(volume: "dr-exercise-data", target: "default")
            async let decision = longhorn.waitForBackupDecision(volume: "dr-exercise-data", syncedAfter: requested, timeout: .seconds(120))
            try await Task.sleep(for: .milliseconds(500))
            let lagging = try await sim.kube.get(LonghornResources.backupVolumes, namespace: sim.namespace, name: bvName)
            #expect(lagging[path: ["spec", "syncRequestedAt"]] == nil, "the client does not patch BackupVolumes")
            try await sim.setStatus(LonghornResources.backupVolumes, bvName, ["lastSyncedAt": .string(LonghornTime.format(Date()))])
            guard case .found(let backup, _) = try await decision else {
                Issue.record("expected the backup once the BackupVolume synced")
                return
            }
            #expect(backup.name == "backup-00000000000000b1")
            try expectRecordedObjectsValid(sim)
        }
    }
}

/// Runs `body` and returns the LonghornError it throws (recording a failure otherwise).
func expectLonghornError(sourceLocation: SourceLocation = #_sourceLocation, _ body: () async throws -> Void) async -> LonghornError? {
    do {
        try await body()
        Issue.record("expected a LonghornError, but the call succeeded", sourceLocation: sourceLocation)
        return nil
    } catch let error as LonghornError {
        return error
    } catch {
        Issue.record("expected a LonghornError, got \(error)", sourceLocation: sourceLocation)
        return nil
    }
}

/// Every Longhorn object created during the test, as the server received it, against the
/// release's real CRD schema (server-owned metadata removed first).
func expectRecordedObjectsValid(_ sim: LonghornSimulator, sourceLocation: SourceLocation = #_sourceLocation) throws {
    for plural in ["volumes", "snapshots", "backups", "backupvolumes", "backuptargets", "settings"] {
        let schema = try #require(sim.crds.schema(plural), sourceLocation: sourceLocation)
        for object in sim.recorder.created(plural) {
            var sent = object
            for field in ["uid", "creationTimestamp", "generation", "resourceVersion", "managedFields"] { sent[path: ["metadata", field]] = nil }
            let kind = LonghornSimulator.kinds[plural] ?? ""
            let problems = StructuralSchemaValidator(schema: schema).problems(in: sent, kind: kind)
            #expect(problems.isEmpty, "\(kind) on \(sim.crds.release): \(problems)", sourceLocation: sourceLocation)
        }
    }
}
