import Backupstore
import Foundation
import KubeModels
import Testing

@testable import Simulator

/// The simulated Longhorn manager: a backup taken in one cluster is restored in a brand-new one
/// through the three sync hops, on each version personality, and every failure switch shows.
@Suite(.serialized) struct LonghornSimulationTests {
    static let namespace = "longhorn-system"

    /// A cluster with Longhorn installed over the given store folder, running until `body` ends.
    static func withLonghorn<T: Sendable>(
        _ version: String, store: URL, target: String? = "s3://backups@us-east-1/dev/",
        _ body: @Sendable (LonghornSimulation) async throws -> T
    ) async throws -> T {
        let cluster = await SimulatedCluster()
        var options = LonghornSimulation.Options(
            dataRoot: FileManager.default.temporaryDirectory.appendingPathComponent("lhdr-lh-\(UUID().uuidString)"),
            storeResolver: LonghornSimulation.Options.folderStores(root: store))
        options.personality = LonghornPersonality(version)!
        options.backupTargetURL = target
        let longhorn = LonghornSimulation(cluster: cluster, options: options)
        try await longhorn.install()
        return try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask {
                await cluster.runControllers()
                return nil
            }
            group.addTask {
                await longhorn.run()
                return nil
            }
            defer { group.cancelAll() }
            return try await body(longhorn)
        }
    }

    static func temporaryFolder() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("lhdr-store-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Waits for a Longhorn object to satisfy `predicate`; fails the test with what it saw last.
    @discardableResult
    static func eventually(
        _ longhorn: LonghornSimulation, _ resource: String, _ name: String, timeout: Duration = .seconds(90),
        sourceLocation: SourceLocation = #_sourceLocation, _ predicate: (JSONValue) -> Bool
    ) async throws -> JSONValue? {
        let type = try await longhorn.type("longhorn.io", resource)
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        var last: JSONValue?
        while clock.now < deadline {
            last = await longhorn.store.find(type, namespace: namespace, name: name)
            if let last, predicate(last) { return last }
            try await Task.sleep(for: .milliseconds(25))
        }
        Issue.record(
            "\(resource)/\(name) never matched; last seen: \(last?.jsonText.prefix(600) ?? "nothing"); last controller error: \(await longhorn.lastError ?? "none")",
            sourceLocation: sourceLocation)
        return nil
    }

    static func create(_ longhorn: LonghornSimulation, _ resource: String, _ object: JSONValue) async throws {
        let type = try await longhorn.type("longhorn.io", resource)
        try await longhorn.store.create(type, namespace: namespace, object: object)
    }

    /// Source cluster: a volume with a sentinel file, a snapshot and a backup of it.
    static func takeBackup(_ longhorn: LonghornSimulation, volume: String = "dr-exercise-data", backup: String = "backup-0123456789abcdef", content: String)
        async throws -> JSONValue?
    {
        try await create(
            longhorn, "volumes", ["metadata": ["name": .string(volume)], "spec": ["size": "67108864", "frontend": "blockdev", "numberOfReplicas": 3]])
        try await eventually(longhorn, "volumes", volume) { $0[path: ["status", "state"]] == "detached" }
        try Data(content.utf8).write(to: longhorn.volumeDirectory(volume).appendingPathComponent("sentinel.txt"))
        try await create(longhorn, "snapshots", ["metadata": ["name": "snap-1"], "spec": ["volume": .string(volume), "createSnapshot": true]])
        try await eventually(longhorn, "snapshots", "snap-1") { $0[path: ["status", "readyToUse"]] == true }
        try await eventually(longhorn, "backuptargets", "default") { $0[path: ["status", "available"]] == true }
        var labels: JSONValue = ["backup-volume": .string(volume)]
        if longhorn.personality.atLeast(1, 8) { labels["backup-target"] = "default" }
        try await create(longhorn, "backups", ["metadata": ["name": .string(backup), "labels": labels], "spec": ["snapshotName": "snap-1"]])
        return try await eventually(longhorn, "backups", backup) {
            ["Completed", "Error"].contains($0[path: ["status", "state"]]?.stringValue ?? "")
        }
    }

    @Test(arguments: ["v1.7.3", "v1.9.0", "v1.10.2", "v1.12.1"])
    func backupInOneClusterRestoresInANewOne(version: String) async throws {
        let folder = try Self.temporaryFolder()
        let backup = try await Self.withLonghorn(version, store: folder) { try await Self.takeBackup($0, content: "sentinel \(version)") }
        #expect(backup?[path: ["status", "state"]] == "Completed", "\(String(describing: backup?["status"]))")
        #expect(backup?[path: ["status", "url"]] == "s3://backups@us-east-1/dev/?backup=backup-0123456789abcdef&volume=dr-exercise-data")

        try await Self.withLonghorn(version, store: folder) { longhorn in
            // A brand-new cluster: nothing until the target syncs.
            let personality = longhorn.personality
            let bvName = personality.labelsBackupVolumes ? nil : "dr-exercise-data"
            try await Self.eventually(longhorn, "backuptargets", "default") { $0[path: ["status", "lastSyncedAt"]] != nil }
            let bvs = try await longhorn.store.list(try await longhorn.type("longhorn.io", "backupvolumes"), namespace: Self.namespace).items
            #expect(bvs.count == 1)
            if let bvName { #expect(bvs.first?[path: ["metadata", "name"]]?.stringValue == bvName) }
            if personality.labelsBackupVolumes {
                #expect(bvs.first?[path: ["metadata", "labels", "backup-volume"]] == "dr-exercise-data")
                #expect(bvs.first?[path: ["metadata", "name"]]?.stringValue?.hasPrefix("dr-exercise-data-") == true)
            }
            let pulled = try await Self.eventually(longhorn, "backups", "backup-0123456789abcdef") { $0[path: ["status", "state"]] == "Completed" }
            let url = pulled?[path: ["status", "url"]] ?? ""
            try await Self.create(
                longhorn, "volumes",
                [
                    "metadata": ["name": "dr-exercise-data"],
                    "spec": ["fromBackup": url, "frontend": "blockdev", "numberOfReplicas": 3, "dataEngine": "v1"],
                ])
            let restored = try await Self.eventually(longhorn, "volumes", "dr-exercise-data") {
                $0[path: ["status", "restoreInitiated"]] == true && $0[path: ["status", "restoreRequired"]] == false
                    && $0[path: ["status", "state"]] == "detached"
            }
            #expect(restored?[path: ["spec", "size"]] == "67108864", "the size comes from the backup")
            let content = try String(contentsOf: longhorn.volumeDirectory("dr-exercise-data").appendingPathComponent("sentinel.txt"), encoding: .utf8)
            #expect(content == "sentinel \(version)")
        }
    }

    @Test func volumeWithoutFrontendIsRefused() async throws {
        try await Self.withLonghorn("v1.10.2", store: try Self.temporaryFolder()) { longhorn in
            do {
                try await Self.create(longhorn, "volumes", ["metadata": ["name": "nofront"], "spec": ["size": "1073741824", "numberOfReplicas": 3]])
                Issue.record("a Volume without frontend was accepted")
            } catch let error as APIError {
                #expect(error.message.contains("invalid volume frontend specified"))
            }
        }
    }

    @Test func restoreBeforeTheBackupIsSyncedIsRefused() async throws {
        try await Self.withLonghorn("v1.10.2", store: try Self.temporaryFolder(), target: nil) { longhorn in
            do {
                try await Self.create(
                    longhorn, "volumes",
                    [
                        "metadata": ["name": "early"],
                        "spec": [
                            "fromBackup": "s3://backups@us-east-1/dev/?backup=backup-0123456789abcdef&volume=early", "frontend": "blockdev",
                            "numberOfReplicas": 3,
                        ],
                    ])
                Issue.record("a restore from an unsynced backup was accepted")
            } catch let error as APIError {
                #expect(error.message.contains("cannot get backup backup-0123456789abcdef"))
            }
        }
    }

    @Test(arguments: ["v1.7.3", "v1.9.2"])
    func backupWithoutVolumeLabelFailsOnOldVersions(version: String) async throws {
        try await Self.withLonghorn(version, store: try Self.temporaryFolder()) { longhorn in
            try await Self.eventually(longhorn, "backuptargets", "default") { $0[path: ["status", "available"]] == true }
            do {
                try await Self.create(
                    longhorn, "backups", ["metadata": ["name": "backup-nolabel", "labels": ["longhornvolume": "v"]], "spec": ["snapshotName": "s"]])
                Issue.record("a Backup without the backup-volume label was accepted on \(version)")
            } catch let error as APIError {
                #expect(error.message.contains("failed calling webhook"))
            }
        }
    }

    @Test func backupIsRefusedWhileTheTargetIsUnavailable() async throws {
        try await Self.withLonghorn("v1.9.2", store: try Self.temporaryFolder()) { longhorn in
            await longhorn.faults.set(storeUnreachable: true)
            let target = try await Self.eventually(longhorn, "backuptargets", "default") {
                $0[path: ["status", "conditions"]]?.arrayValue?.first?["type"] == "Unavailable"
            }
            #expect(target?[path: ["status", "available"]] == false)
            #expect(target?[path: ["status", "lastSyncedAt"]] == nil, "an unreachable store is never 'synced'")
            do {
                try await Self.create(
                    longhorn, "backups",
                    ["metadata": ["name": "backup-down", "labels": ["backup-volume": "v", "backup-target": "default"]], "spec": ["snapshotName": "s"]])
                Issue.record("a backup was accepted with the target unavailable")
            } catch let error as APIError {
                #expect(error.message.contains("is not available"))
            }
        }
    }

    @Test func backupErrorSwitchEndsInError() async throws {
        try await Self.withLonghorn("v1.10.2", store: try Self.temporaryFolder()) { longhorn in
            await longhorn.faults.set(backupError: "replica 10.42.0.5 failed to upload")
            let backup = try await Self.takeBackup(longhorn, content: "x")
            #expect(backup?[path: ["status", "state"]] == "Error")
            #expect(backup?[path: ["status", "error"]] == "replica 10.42.0.5 failed to upload")
        }
    }

    @Test func corruptedBlockFaultsTheRestore() async throws {
        let folder = try Self.temporaryFolder()
        _ = try await Self.withLonghorn("v1.10.2", store: folder) { try await Self.takeBackup($0, content: "precious") }
        // Flip a byte in one stored block.
        let blocks =
            FileManager.default.enumerator(at: folder, includingPropertiesForKeys: nil)?.allObjects.compactMap { $0 as? URL }.filter {
                $0.pathExtension == "blk"
            } ?? []
        let victim = try #require(blocks.first)
        var bytes = try Data(contentsOf: victim)
        bytes[bytes.count / 2] ^= 0xFF
        try bytes.write(to: victim)
        try await Self.withLonghorn("v1.10.2", store: folder) { longhorn in
            let pulled = try await Self.eventually(longhorn, "backups", "backup-0123456789abcdef") { $0[path: ["status", "state"]] == "Completed" }
            try await Self.create(
                longhorn, "volumes",
                ["metadata": ["name": "dr-exercise-data"], "spec": ["fromBackup": pulled?[path: ["status", "url"]] ?? "", "frontend": "blockdev"]])
            let volume = try await Self.eventually(longhorn, "volumes", "dr-exercise-data") { $0[path: ["status", "robustness"]] == "faulted" }
            let condition = volume?[path: ["status", "conditions"]]?.arrayValue?.first { $0["type"] == "Restore" }
            #expect(condition?["reason"] == "RestoreFailure")
            #expect(volume?[path: ["status", "restoreRequired"]] == true, "a failed restore never reports done")
        }
    }

    @Test func stalledRestoreNeverReportsDone() async throws {
        let folder = try Self.temporaryFolder()
        _ = try await Self.withLonghorn("v1.10.2", store: folder) { try await Self.takeBackup($0, content: "x") }
        try await Self.withLonghorn("v1.10.2", store: folder) { longhorn in
            await longhorn.faults.set(restoreStalls: true)
            let pulled = try await Self.eventually(longhorn, "backups", "backup-0123456789abcdef") { $0[path: ["status", "state"]] == "Completed" }
            try await Self.create(
                longhorn, "volumes",
                ["metadata": ["name": "dr-exercise-data"], "spec": ["fromBackup": pulled?[path: ["status", "url"]] ?? "", "frontend": "blockdev"]])
            let attached = try await Self.eventually(longhorn, "volumes", "dr-exercise-data") { $0[path: ["status", "state"]] == "attached" }
            #expect(attached?[path: ["status", "restoreRequired"]] == true)
            try await Task.sleep(for: .milliseconds(500))
            let later = await longhorn.store.find(try await longhorn.type("longhorn.io", "volumes"), namespace: Self.namespace, name: "dr-exercise-data")
            #expect(later?[path: ["status", "restoreRequired"]] == true)
            #expect(later?[path: ["status", "state"]] == "attached")
        }
    }

    @Test func aSimulatorBackupVerifiesBlockByBlockAndACorruptBlockIsNamed() async throws {
        let folder = try Self.temporaryFolder()
        _ = try await Self.withLonghorn("v1.10.2", store: folder) { try await Self.takeBackup($0, content: String(repeating: "data ", count: 10_000)) }
        let objects = FileSystemObjectStore(root: folder.appendingPathComponent("backups"))
        let reader = BackupReader(store: objects, layout: BackupstoreLayout(targetURL: "s3://backups@us-east-1/dev/"))
        let result = try await reader.verify(volume: "dr-exercise-data", backup: "backup-0123456789abcdef")
        #expect(result.blocksVerified > 0)
        let config = try await reader.backupConfig(volume: "dr-exercise-data", backup: "backup-0123456789abcdef")
        let block = try #require(config.blocks.last)
        let layout = BackupstoreLayout(targetURL: "s3://backups@us-east-1/dev/")
        let key = layout.blockKey(volume: "dr-exercise-data", checksum: block.blockChecksum)
        var bytes = try await objects.get(key)
        bytes[bytes.count - 1] ^= 0x01
        try await objects.put(key, data: bytes)
        do {
            _ = try await reader.verify(volume: "dr-exercise-data", backup: "backup-0123456789abcdef")
            Issue.record("a corrupted block verified")
        } catch let error as BackupstoreError {
            #expect(error.key == key)
            #expect(error.blockOffset == block.offset)
        }
    }
}

/// The simulated manager is as strict as Longhorn's webhooks and controllers on the paths our
/// flows touch (docs/simulator.md lists the rules per version).
@Suite(.serialized) struct LonghornStrictnessTests {
    typealias Sim = LonghornSimulationTests

    /// The webhook's refusal of `object`, or nil when it was accepted.
    static func refusal(_ longhorn: LonghornSimulation, _ resource: String, _ object: JSONValue) async throws -> String? {
        do {
            try await Sim.create(longhorn, resource, object)
            return nil
        } catch let error as APIError {
            return error.message
        }
    }

    static func volume(_ name: String, size: String = "67108864", accessMode: String? = nil, target: String? = nil) -> JSONValue {
        var spec: JSONValue = ["size": .string(size), "frontend": "blockdev", "numberOfReplicas": 1]
        if let accessMode { spec["accessMode"] = .string(accessMode) }
        if let target { spec["backupTargetName"] = .string(target) }
        return ["metadata": ["name": .string(name)], "spec": spec]
    }

    @Test func aSnapshotOfAVolumeThatDoesNotExistIsRefused() async throws {
        try await Sim.withLonghorn("v1.10.2", store: try Sim.temporaryFolder()) { longhorn in
            let refused = try await Self.refusal(longhorn, "snapshots", ["metadata": ["name": "s1"], "spec": ["volume": "ghost", "createSnapshot": true]])
            #expect(refused?.contains("ghost") == true, "\(refused ?? "accepted")")
        }
    }

    @Test func aSnapshotWithoutCreateSnapshotIsDeleted() async throws {
        try await Sim.withLonghorn("v1.10.2", store: try Sim.temporaryFolder()) { longhorn in
            try await Sim.create(longhorn, "volumes", Self.volume("v1"))
            try await Sim.create(longhorn, "snapshots", ["metadata": ["name": "mirror"], "spec": ["volume": "v1"]])
            let type = try await longhorn.type("longhorn.io", "snapshots")
            let clock = ContinuousClock()
            let deadline = clock.now + .seconds(90)
            while await longhorn.store.find(type, namespace: Sim.namespace, name: "mirror") != nil, clock.now < deadline {
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(await longhorn.store.find(type, namespace: Sim.namespace, name: "mirror") == nil, "the engine controller deletes it")
        }
    }

    @Test func volumeRulesPerVersion() async throws {
        try await Sim.withLonghorn("v1.10.2", store: try Sim.temporaryFolder()) { longhorn in
            let r1 = try await Self.refusal(longhorn, "volumes", Self.volume("odd-size", size: "1000000"))
            #expect(r1?.contains("multiple of 2097152") == true)
            let r2 = try await Self.refusal(longhorn, "volumes", Self.volume("pod-only", accessMode: "rwop"))
            #expect(r2?.contains("access mode") == true)
            let r3 = try await Self.refusal(longhorn, "volumes", Self.volume("a"))
            #expect(r3?.contains("invalid name") == true)
            let r4 = try await Self.refusal(longhorn, "volumes", Self.volume("fine"))
            #expect(r4 == nil)
        }
        try await Sim.withLonghorn("v1.12.1", store: try Sim.temporaryFolder()) { longhorn in
            let r5 = try await Self.refusal(longhorn, "volumes", Self.volume("pod-only", accessMode: "rwop"))
            #expect(r5 == nil)
        }
    }

    @Test func backupRulesOnV1_10() async throws {
        try await Sim.withLonghorn("v1.10.2", store: try Sim.temporaryFolder()) { longhorn in
            try await Sim.create(longhorn, "volumes", Self.volume("v1"))
            try await Sim.create(longhorn, "volumes", Self.volume("v2"))
            try await Sim.create(longhorn, "volumes", Self.volume("v3", target: "secondary"))
            try await Sim.create(longhorn, "snapshots", ["metadata": ["name": "snap-v1"], "spec": ["volume": "v1", "createSnapshot": true]])
            try await Sim.create(longhorn, "snapshots", ["metadata": ["name": "snap-v3"], "spec": ["volume": "v3", "createSnapshot": true]])
            try await Sim.eventually(longhorn, "backuptargets", "default") { $0[path: ["status", "available"]] == true }
            func backup(_ name: String, volume: String, snapshot: String, target: String = "default", mode: String? = nil) -> JSONValue {
                var spec: JSONValue = ["snapshotName": .string(snapshot)]
                if let mode { spec["backupMode"] = .string(mode) }
                return ["metadata": ["name": .string(name), "labels": ["backup-volume": .string(volume), "backup-target": .string(target)]], "spec": spec]
            }
            let r6 = try await Self.refusal(longhorn, "backups", backup("b-missing", volume: "v1", snapshot: "no-such-snap"))
            #expect(r6?.contains("no-such-snap") == true)
            let r7 = try await Self.refusal(longhorn, "backups", backup("b-wrong", volume: "v2", snapshot: "snap-v1"))
            #expect(r7?.contains("belongs to volume v1") == true)
            let r8 = try await Self.refusal(longhorn, "backups", backup("b-target", volume: "v3", snapshot: "snap-v3"))
            #expect(r8?.contains("does not match") == true)
            let r9 = try await Self.refusal(longhorn, "backups", backup("b-mode", volume: "v1", snapshot: "snap-v1", mode: "differential"))
            #expect(r9?.contains("backup mode") == true)
            let r10 = try await Self.refusal(longhorn, "backups", backup("b-ok", volume: "v1", snapshot: "snap-v1"))
            #expect(r10 == nil)
        }
    }

    @Test func theSyncTakesSeparatePassesAndV1_7MakesItsTargetLate() async throws {
        let store = try Sim.temporaryFolder()
        // A backup in the store, taken by a first cluster.
        try await Sim.withLonghorn("v1.10.2", store: store) { longhorn in
            let backup = try await Sim.takeBackup(longhorn, content: "hops")
            #expect(backup?[path: ["status", "state"]] == "Completed")
        }
        try await Sim.withLonghorn("v1.7.3", store: store) { longhorn in
            let targets = try await longhorn.type("longhorn.io", "backuptargets")
            #expect(await longhorn.store.find(targets, namespace: Sim.namespace, name: "default") == nil, "≤1.7 creates the target later")
            let target = try await Sim.eventually(longhorn, "backuptargets", "default") { $0[path: ["status", "lastSyncedAt"]] != nil }
            // The BackupVolume exists once the target has synced, but has not listed its own backups yet.
            let volumes = try await longhorn.type("longhorn.io", "backupvolumes")
            let bv = await longhorn.store.find(volumes, namespace: Sim.namespace, name: "dr-exercise-data")
            #expect(bv != nil)
            #expect(bv?[path: ["status", "lastSyncedAt"]] == nil, "the BackupVolume syncs in a later pass than its target")
            let synced = try await Sim.eventually(longhorn, "backupvolumes", "dr-exercise-data") { $0[path: ["status", "lastSyncedAt"]] != nil }
            let targetTime = LonghornSimulation.date(target?[path: ["status", "lastSyncedAt"]]?.stringValue)
            let volumeTime = LonghornSimulation.date(synced?[path: ["status", "lastSyncedAt"]]?.stringValue)
            #expect(targetTime != nil && volumeTime != nil && volumeTime! >= targetTime!.addingTimeInterval(1), "one hop (1 s) apart")
        }
    }
}
