import Foundation
import KubeClient
import KubeModels
import Simulator
import SimulatorTestSupport
import Testing

@testable import Longhorn

/// The client against the project's simulated Longhorn manager (its webhooks, three sync hops
/// and real data path), served over HTTPS: a backup taken in one cluster is found and restored
/// in a brand-new one on each version personality.
@Suite(.serialized) struct LonghornManagerSimulationTests {
    static let targetURL = "s3://backups@us-east-1/dev/"

    struct Running: Sendable {
        let longhorn: LonghornClient
        let manager: LonghornSimulation
        let recorder: CreationRecorder
    }

    /// One cluster with the simulated manager installed over the store folder `store`.
    static func withManager<T: Sendable>(
        _ personality: String, store: URL, _ body: @Sendable (Running) async throws -> T
    ) async throws -> T {
        let cluster = await SimulatedCluster()
        let recorder = CreationRecorder()
        await cluster.store.addAdmission(recorder)
        var options = LonghornSimulation.Options(
            dataRoot: FileManager.default.temporaryDirectory.appendingPathComponent("lhdr-lhc-\(UUID().uuidString)"),
            storeResolver: LonghornSimulation.Options.folderStores(root: store))
        options.personality = try #require(LonghornPersonality(personality))
        options.backupTargetURL = targetURL
        let manager = LonghornSimulation(cluster: cluster, options: options)
        try await manager.install()
        return try await RunningSimulator.with(cluster, alongside: [{ await manager.run() }]) { running in
            let kube = try LonghornSimulator.client(running.endpoint)
            do {
                let longhorn = try await LonghornClient.connect(kube: kube)
                let result = try await body(Running(longhorn: longhorn, manager: manager, recorder: recorder))
                try await kube.shutdown()
                return result
            } catch {
                try? await kube.shutdown()
                throw error
            }
        }
    }

    /// Longhorn v1.7 makes BackupTarget default only after its manager is up: right after a
    /// rebuild the target is missing, and that is "not yet", never "unavailable". Made
    /// deterministic by holding back the Setting the target is made from.
    @Test func aTargetThatLonghornCreatesLateIsWaitedFor() async throws {
        let store = FileManager.default.temporaryDirectory.appendingPathComponent("lhdr-lhc-store-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: store, withIntermediateDirectories: true)
        try await Self.withManager("v1.7.3", store: store) { run in
            let longhorn = run.longhorn
            let kube = run.longhorn.kube
            let namespace = run.longhorn.namespace
            let setting = try await kube.get(LonghornResources.settings, namespace: namespace, name: "backup-target")
            try await kube.delete(LonghornResources.settings, namespace: namespace, name: "backup-target", waitUntilGone: .seconds(120))
            try await kube.delete(LonghornResources.backupTargets, namespace: namespace, name: "default", waitUntilGone: .seconds(120))
            let waiting = Task { try await longhorn.waitUntilReadyForRestore(timeout: .seconds(180)) }
            try await Task.sleep(for: .seconds(2))
            #expect(try await longhorn.get(BackupTarget.self, "default") == nil, "still missing: the Setting is not back")
            // Longhorn's Setting controller comes round: the target appears, the wait ends.
            _ = try await kube.create(
                LonghornResources.settings, namespace: namespace,
                object: [
                    "apiVersion": "longhorn.io/v1beta2", "kind": "Setting", "metadata": ["name": "backup-target"],
                    "value": setting["value"] ?? "",
                ])
            let readiness = try await waiting.value
            #expect(readiness.target.isSynced(after: readiness.syncRequestedAt))
        }
    }

    /// The reference CRDs closest to a personality (v1.9.0 is checked against v1.9.2's).
    static func crdRelease(_ personality: String) -> String {
        personality == "v1.9.0" ? "v1.9.2" : personality
    }

    @Test(arguments: ["v1.7.3", "v1.9.0", "v1.9.2", "v1.10.2", "v1.12.1"])
    func backupThenRestoreInANewCluster(personality: String) async throws {
        let store = FileManager.default.temporaryDirectory.appendingPathComponent("lhdr-lhc-store-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: store, withIntermediateDirectories: true)
        let sentinel = "sentinel for \(personality) \(UUID().uuidString)"
        let crds = try LonghornCRDs.load(Self.crdRelease(personality))

        // Source cluster: a fresh volume with a sentinel, a snapshot, a backup.
        let backupName = try await Self.withManager(personality, store: store) { run in
            let longhorn = run.longhorn
            #expect(longhorn.version.description == personality)
            // v1.7 and older create BackupTarget default after the manager starts: wait, do not fail.
            _ = try await longhorn.waitUntilReadyForRestore(timeout: .seconds(120))
            _ = try await longhorn.createFreshVolume(name: "dr-exercise-data", sizeBytes: 64 << 20)
            try await longhorn.kube.waitFor(
                LonghornResources.volumes, namespace: longhorn.namespace, name: "dr-exercise-data",
                timeout: .seconds(120), until: "detached"
            ) { $0?[path: ["status", "state"]] == "detached" }
            try Data(sentinel.utf8).write(to: run.manager.volumeDirectory("dr-exercise-data").appendingPathComponent("sentinel.txt"))
            let snapshot = try await longhorn.createSnapshot(volume: "dr-exercise-data")
            _ = try await longhorn.waitForSnapshot(snapshot.name, timeout: .seconds(120))
            let backup = try await longhorn.createBackup(snapshot: snapshot.name, volume: "dr-exercise-data")
            let done = try await longhorn.waitForBackup(backup.name, timeout: .seconds(120))
            #expect(done.isCompleted)
            #expect(done.status?.url == "\(Self.targetURL)?backup=\(backup.name)&volume=dr-exercise-data")
            try Self.expectValid(run.recorder, crds)
            return backup.name
        }

        // A brand-new cluster over the same store.
        try await Self.withManager(personality, store: store) { run in
            let longhorn = run.longhorn
            let requested = try await longhorn.waitUntilReadyForRestore(timeout: .seconds(120)).syncRequestedAt
            let lookup = try await longhorn.waitForBackupDecision(volume: "dr-exercise-data", syncedAfter: requested, timeout: .seconds(120))
            guard case .found(let backup, let backupVolume) = lookup else {
                Issue.record("expected the backup made in the first cluster, got \(lookup)")
                return
            }
            #expect(backup.name == backupName)
            if let expected = longhorn.version.expectedBackupVolumeName(volume: "dr-exercise-data") {
                #expect(backupVolume.name == expected)
            }
            // The target may sync again meanwhile, so compare the evidence, not one exact timestamp.
            let none = try await longhorn.findBackup(volume: "never-backed-up", syncedAfter: requested)
            guard case .confirmedNone(let evidence) = none else {
                Issue.record("expected a confirmed 'no backup' for a volume never backed up, got \(none)")
                return
            }
            #expect(evidence.volume == "never-backed-up" && evidence.target == "default")
            #expect(evidence.targetSyncedAt >= requested)

            _ = try await longhorn.createRestoreVolume(name: "dr-exercise-data", from: backup)
            let phases = Collector<RestoreProgress.Phase>()
            let restored = try await longhorn.waitForRestore("dr-exercise-data", timeout: .seconds(120)) { phases.appendChange($0.phase) }
            #expect(restored.spec.size == 64 << 20)
            #expect(phases.values.last == .done)
            let content = try String(contentsOf: run.manager.volumeDirectory("dr-exercise-data").appendingPathComponent("sentinel.txt"), encoding: .utf8)
            #expect(content == sentinel)

            let outcome = try await longhorn.ensurePersistentVolume(
                PersistentVolumeRequest(
                    volumeName: "dr-exercise-data", capacityBytes: 64 << 20,
                    storageClassName: "longhorn", claim: ClaimReference(namespace: "dr-exercise", name: "dr-exercise-data")))
            #expect(outcome == .created)
            try Self.expectValid(run.recorder, crds)
        }
    }

    /// Creations by the client (volumes, snapshots, user backups) against the real schema.
    static func expectValid(_ recorder: CreationRecorder, _ crds: LonghornCRDs, sourceLocation: SourceLocation = #_sourceLocation) throws {
        for (plural, kind) in [("volumes", "Volume"), ("snapshots", "Snapshot"), ("backups", "Backup")] {
            let schema = try #require(crds.schema(plural), sourceLocation: sourceLocation)
            // Backups pulled from the store by the manager carry no snapshotName: not ours.
            for object in recorder.created(plural) where plural != "backups" || object[path: ["spec", "snapshotName"]] != nil {
                var sent = object
                for field in ["uid", "creationTimestamp", "generation", "resourceVersion", "managedFields", "finalizers", "ownerReferences"] {
                    sent[path: ["metadata", field]] = nil
                }
                let problems = StructuralSchemaValidator(schema: schema).problems(in: sent, kind: kind)
                #expect(problems.isEmpty, "\(kind) on \(crds.release): \(problems)", sourceLocation: sourceLocation)
            }
        }
    }
}
