import Assurance
import Backupstore
import CLITestSupport
import DRCore
import Foundation
import KubeClient
import KubeModels
import Longhorn
import Simulator
import SimulatorTestSupport
import Testing

/// `assure --restore-test` against the simulated Longhorn manager: the cluster's own restore of a
/// real backup into a scratch volume, read back by the reader pod (the built `longhorn-dr` run by
/// the simulated kubelet), compared with the backup's block list. A restore that fails, stalls
/// or writes other bytes is a FAIL; the scratch objects are gone afterwards either way, and the
/// real volume is never touched.
@Suite(.serialized) struct RestoreTestTests {
    static let targetURL = "s3://backups@us-east-1/dr/"
    static let image = "ghcr.io/longhorn-dr/longhorn-dr:test"

    struct Running: Sendable {
        let longhorn: LonghornClient
        let manager: LonghornSimulation
        /// The Completed Backup CR of volume `data`, and the digest its block list gives.
        let backup: Backup
        let expected: ImageDigest

        func test(timeout: Duration = .seconds(180)) -> RestoreTest {
            RestoreTest(longhorn: longhorn, settings: RestoreTest.Settings(image: RestoreTestTests.image, timeout: timeout))
        }

        /// Objects labelled as restore tests, by kind, that still exist.
        func scratchObjects() async throws -> [String] {
            let kube = longhorn.kube
            var found: [String] = []
            for (resource, namespace) in [
                (LonghornResources.volumes, longhorn.namespace), (GroupVersionResource.pods, longhorn.namespace),
                (.persistentVolumeClaims, longhorn.namespace), (.persistentVolumes, nil),
            ] {
                for item in try await kube.list(resource, namespace: namespace, labelSelector: "\(RestoreTest.label)=true").items {
                    found.append("\(resource.resource)/\(item[path: ["metadata", "name"]]?.stringValue ?? "")")
                }
            }
            return found
        }
    }

    /// A cluster whose Longhorn has backed up volume `data` (files and a block of zeros written
    /// on purpose) to a store folder, with the reader pod's image mapped to the built binary.
    static func withBackup<T: Sendable>(_ body: @Sendable (Running) async throws -> T) async throws -> T {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("lhdr-restore-test-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let cluster = await SimulatedCluster()
        await cluster.runtime.setImageBin(image, folder: try CLIProcess.binary().deletingLastPathComponent().path)
        var options = LonghornSimulation.Options(
            dataRoot: root.appendingPathComponent("longhorn"),
            storeResolver: LonghornSimulation.Options.folderStores(root: root.appendingPathComponent("store")))
        options.backupTargetURL = targetURL
        options.syncHopDelay = .zero
        let manager = LonghornSimulation(cluster: cluster, options: options)
        try await manager.install()
        return try await RunningSimulator.with(cluster, alongside: [{ await manager.run() }]) { running in
            let kube = try SimulatorHarness.client(running.endpoint)
            do {
                let longhorn = try await LonghornClient.connect(kube: kube)
                _ = try await longhorn.waitUntilReadyForRestore(timeout: .seconds(120))
                _ = try await longhorn.createFreshVolume(name: "data", sizeBytes: 32 << 20)
                try await kube.waitFor(LonghornResources.volumes, namespace: longhorn.namespace, name: "data", timeout: .seconds(120), until: "detached") {
                    $0?[path: ["status", "state"]] == "detached"
                }
                let folder = manager.volumeDirectory("data")
                try Data("the sentinel\n".utf8).write(to: folder.appendingPathComponent("sentinel.txt"))
                try Data((0..<(1 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ $0 >> 11) }).write(to: folder.appendingPathComponent("photo.raw"))
                try Data(count: 4 << 20).write(to: folder.appendingPathComponent("zeros.bin"))
                let snapshot = try await longhorn.createSnapshot(volume: "data")
                _ = try await longhorn.waitForSnapshot(snapshot.name, timeout: .seconds(120))
                let created = try await longhorn.createBackup(snapshot: snapshot.name, volume: "data")
                let backup = try await longhorn.waitForBackup(created.name, timeout: .seconds(120))
                // Longhorn restores only once the BackupVolume lists the backup (its webhook says so).
                // The first backup of a volume asks the target to sync, and a request in the same
                // second as the target's last sync asks for nothing (Go's After): ask again, a
                // second later, as a user would.
                let listed = ContinuousClock.now + .seconds(90)
                var asked = ContinuousClock.now
                while try await longhorn.findBackupVolume(volume: "data")?.status?.lastBackupName != backup.name {
                    guard ContinuousClock.now < listed else {
                        throw LonghornError(.timeout, subject: "BackupVolume of data", detail: "does not list \(backup.name) after 90 s of syncs")
                    }
                    if ContinuousClock.now - asked > .seconds(2) {
                        try await longhorn.requestBackupTargetSync()
                        asked = ContinuousClock.now
                    }
                    try await Task.sleep(for: .milliseconds(100))
                }
                let store = FileSystemObjectStore(root: root.appendingPathComponent("store/backups"))
                let config = try await BackupReader(store: store, layout: BackupstoreLayout(targetURL: targetURL)).backupConfig(
                    volume: "data", backup: backup.name)
                let result = try await body(Running(longhorn: longhorn, manager: manager, backup: backup, expected: try ImageDigest.expected(for: config)))
                try await kube.shutdown()
                return result
            } catch {
                try? await kube.shutdown()
                throw error
            }
        }
    }

    // Each cluster below serves several scenarios in turn: setting one up (a backup and its
    // sync through the simulated manager) is most of the cost, and the test process runs every
    // suite at once on two cores.

    /// The healthy path, with what an earlier run left lying around, then a reader that cannot read.
    @Test func theClustersRestoreReadBackMatchesTheBackupAndOnlyScratchObjectsAreRemoved() async throws {
        try await Self.withBackup { run in
            let kube = run.longhorn.kube
            let namespace = run.longhorn.namespace
            let before = try await kube.get(LonghornResources.volumes, namespace: namespace, name: "data")
            // An earlier run killed after its volume and claim were made (its time is over); a
            // run going on beside this one; and a volume of the same name pattern that someone
            // else made, without the label.
            let over = String(Int(Date().timeIntervalSince1970) - 1)
            let going = String(Int(Date().timeIntervalSince1970) + 3600)
            _ = try await run.longhorn.createFreshVolume(
                name: "\(RestoreTest.namePrefix)old1", sizeBytes: 16 << 20,
                options: VolumeOptions(numberOfReplicas: 1, labels: [RestoreTest.label: "true", RestoreTest.untilLabel: over]))
            _ = try await run.longhorn.createFreshVolume(
                name: "\(RestoreTest.namePrefix)busy", sizeBytes: 16 << 20,
                options: VolumeOptions(numberOfReplicas: 1, labels: [RestoreTest.label: "true", RestoreTest.untilLabel: going]))
            _ = try await run.longhorn.createFreshVolume(name: "\(RestoreTest.namePrefix)theirs", sizeBytes: 16 << 20)
            try await kube.create(
                .persistentVolumeClaims, namespace: namespace,
                object: [
                    "metadata": ["name": .string("\(RestoreTest.namePrefix)old1"), "labels": .object([RestoreTest.label: "true"])],
                    "spec": ["accessModes": ["ReadWriteOnce"], "volumeMode": "Block", "storageClassName": "", "resources": ["requests": ["storage": "16Mi"]]],
                ])

            let outcome = await run.test().run(volume: "data", backup: run.backup, expected: run.expected)
            #expect(outcome.passed, "\(outcome.detail)")
            #expect(outcome.status == .ok)
            #expect(outcome.scratchVolume.hasPrefix(RestoreTest.namePrefix))
            #expect(outcome.detail.contains("the same \(run.expected.dataBlocks) data blocks as the backup lists"), "\(outcome.detail)")
            #expect(run.expected.dataBlocks > 1)
            #expect(outcome.leftovers.isEmpty)
            let left = try await run.scratchObjects()
            #expect(left == ["volumes/\(RestoreTest.namePrefix)busy"], "its own objects and the earlier run's are gone, the running one's kept: \(left)")
            #expect(try await kube.getIfPresent(LonghornResources.volumes, namespace: namespace, name: "\(RestoreTest.namePrefix)theirs") != nil)
            // The real volume: same object, same files.
            let after = try await kube.get(LonghornResources.volumes, namespace: namespace, name: "data")
            #expect(after[path: ["metadata", "resourceVersion"]] == before[path: ["metadata", "resourceVersion"]])
            let sentinel = try String(contentsOf: run.manager.volumeDirectory("data").appendingPathComponent("sentinel.txt"), encoding: .utf8)
            #expect(sentinel == "the sentinel\n")

            // An image without longhorn-dr: the reader's command is not found and the pod fails.
            let blind = RestoreTest(longhorn: run.longhorn, settings: RestoreTest.Settings(image: "registry.invalid/none:1", timeout: .seconds(180)))
            let unread = await blind.run(volume: "data", backup: run.backup, expected: run.expected)
            #expect(!unread.passed)
            #expect(unread.status == .infrastructure)
            #expect(unread.detail.contains("the reader pod"), "\(unread.detail)")
            let still = try await run.scratchObjects()
            #expect(still == ["volumes/\(RestoreTest.namePrefix)busy"], "\(still)")
        }
    }

    /// Each way the cluster's restore can go wrong is a FAIL, and cleaned up.
    @Test func aRestoreThatWritesOtherBytesFaultsOrStallsFailsAndIsRemoved() async throws {
        try await Self.withBackup { run in
            await run.manager.faults.set(corruptRestoredData: true)
            let corrupt = await run.test().run(volume: "data", backup: run.backup, expected: run.expected)
            #expect(!corrupt.passed)
            #expect(corrupt.status == .verificationFailed)
            #expect(corrupt.detail.contains("does not hold the backup's data"), "\(corrupt.detail)")
            #expect(corrupt.detail.contains("differs in 1 GiB range (0 GiB–1 GiB)"), "\(corrupt.detail)")
            var left = try await run.scratchObjects()
            #expect(left.isEmpty, "left: \(left)")

            await run.manager.faults.set(named: ["restore-fault"])
            let faulted = await run.test().run(volume: "data", backup: run.backup, expected: run.expected)
            #expect(!faulted.passed)
            #expect(faulted.status == .verificationFailed)
            #expect(faulted.detail.contains("Longhorn could not restore \(run.backup.metadata.name)"), "\(faulted.detail)")
            #expect(faulted.detail.contains("RestoreFailure") || faulted.detail.contains("faulted"), "\(faulted.detail)")
            left = try await run.scratchObjects()
            #expect(left.isEmpty, "left: \(left)")

            await run.manager.faults.set(named: ["restore-stalls"])
            let stalled = await run.test(timeout: .seconds(10)).run(volume: "data", backup: run.backup, expected: run.expected)
            #expect(!stalled.passed)
            #expect(stalled.status == .infrastructure, "\(stalled.detail)")
            #expect(stalled.detail.contains("did not finish restoring \(run.backup.metadata.name)"), "\(stalled.detail)")
            #expect(stalled.detail.contains("within --restore-test-timeout 10s"), "\(stalled.detail)")
            left = try await run.scratchObjects()
            #expect(left.isEmpty, "the stalled scratch volume is deleted: \(left)")
        }
    }

    @Test func volumesTakeTurnsAmongThoseThatPassed() {
        let volumes = ["a", "b", "c"]
        #expect(RestoreTest.pick(volumes, after: nil, eligible: ["a", "b", "c"]) == "a")
        #expect(RestoreTest.pick(volumes, after: "a", eligible: ["a", "b", "c"]) == "b")
        #expect(RestoreTest.pick(volumes, after: "c", eligible: ["a", "b", "c"]) == "a")
        #expect(RestoreTest.pick(volumes, after: "a", eligible: ["a", "c"]) == "c", "b failed its store check: skipped")
        #expect(RestoreTest.pick(volumes, after: "gone", eligible: ["b"]) == "b", "a volume no longer declared starts from the top")
        #expect(RestoreTest.pick(volumes, after: "a", eligible: []) == nil)
    }
}

/// The digest a backup's block list gives and the one read from an image agree exactly when the
/// image holds the backup's data.
@Suite struct ImageDigestTests {
    static let blockSize = 64 * 1024

    @Test func anImageAndTheBlockListOfItsBackupGiveTheSameDigest() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("lhdr-digest-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: root) }
        // Blocks: data, a hole, data, zeros written on purpose, data; then a short tail.
        var bytes = [UInt8](repeating: 0, count: 5 * Self.blockSize + 1000)
        for block in [0, 2, 4] {
            for index in 0..<Self.blockSize { bytes[block * Self.blockSize + index] = UInt8(truncatingIfNeeded: index &* (block + 3)) }
        }
        bytes[5 * Self.blockSize + 10] = 9
        let image = root.appendingPathComponent("image")
        try Data(bytes).write(to: image)
        var mappings: [BlockMapping] = []
        for block in 0..<6 {
            let start = block * Self.blockSize
            var piece = Array(bytes[start..<min(start + Self.blockSize, bytes.count)])
            piece += [UInt8](repeating: 0, count: Self.blockSize - piece.count)
            if block == 1 { continue }  // a hole: not in the backup
            mappings.append(BlockMapping(offset: Int64(start), blockChecksum: BackupstoreLayout.checksum(of: piece)))
        }
        let config = BackupConfig(
            name: "b", volumeName: "v", parameters: [BackupConfig.blockSizeParameter: String(Self.blockSize)], compressionMethod: .lz4, blocks: mappings)
        let expected = try ImageDigest.expected(for: config)
        let (read, bytesRead) = try ImageDigest.read(file: image.path, blockSize: Int64(Self.blockSize))
        #expect(bytesRead == Int64(bytes.count))
        #expect(expected.dataBlocks == 4, "the block of zeros is left out, the short tail counted")
        #expect(read == expected)

        bytes[2 * Self.blockSize + 5] ^= 1
        try Data(bytes).write(to: image)
        let damaged = try ImageDigest.read(file: image.path, blockSize: Int64(Self.blockSize)).digest
        #expect(damaged.digest != expected.digest)
        #expect(damaged.differingSegments(from: expected) == [0])
    }

    @Test func theReaderCommandPrintsTheDigestAndFailsOnAnUnreadableDevice() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("lhdr-digest-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: root) }
        let image = root.appendingPathComponent("device")
        var bytes = [UInt8](repeating: 0, count: 8 * Self.blockSize)
        for index in (3 * Self.blockSize)..<(4 * Self.blockSize) { bytes[index] = UInt8(truncatingIfNeeded: index) }
        try Data(bytes).write(to: image)
        let result = try await CLIProcess.run(["image-digest", "--block-size", String(Self.blockSize), image.path])
        #expect(result.status == 0, "\(result.all)")
        let printed = try JSONDecoder().decode(ImageDigest.self, from: Data(result.stdout.utf8))
        #expect(printed == (try ImageDigest.read(file: image.path, blockSize: Int64(Self.blockSize))).digest)
        #expect(printed.dataBlocks == 1)
        #expect(result.stdout.contains("\"bytesRead\":\(bytes.count)"), "\(result.stdout)")

        let missing = try await CLIProcess.run(["image-digest", root.appendingPathComponent("absent").path])
        #expect(missing.status == 4, "\(missing.all)")
        #expect(missing.stderr.contains("cannot be opened for reading"), "\(missing.all)")
        let badSize = try await CLIProcess.run(["image-digest", "--block-size", "1000", image.path])
        #expect(badSize.status == 2, "\(badSize.all)")
    }

    @Test func segmentsNameTheGiBWhereTheyDiffer() {
        func digest(_ blocks: [(Int64, String)]) -> ImageDigest {
            var builder = ImageDigest.Builder(blockSize: 2 << 20)
            for (offset, checksum) in blocks { builder.add(offset: offset, checksum: checksum) }
            return builder.finish()
        }
        let a = String(repeating: "a", count: 64)
        let b = String(repeating: "b", count: 64)
        let gib: Int64 = 1 << 30
        let one = digest([(0, a), (gib + (2 << 20), a), (3 * gib, b)])
        #expect(Set(one.segments.keys) == ["0", "1", "3"])
        #expect(digest([(0, a), (gib + (2 << 20), b), (3 * gib, b)]).differingSegments(from: one) == [1])
        #expect(digest([(0, a), (gib + (2 << 20), a)]).differingSegments(from: one) == [3], "a segment missing on one side differs")
        #expect(digest([(0, a), (gib + (2 << 20), a), (3 * gib, b)]) == one)
    }
}
