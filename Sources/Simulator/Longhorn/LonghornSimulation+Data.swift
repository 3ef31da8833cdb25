import Backupstore
import Foundation
import KubeModels

/// Snapshots, user backups and the volume state machine with restores: the data path.
extension LonghornSimulation {
    func reconcileSnapshots() async throws {
        let snapshots = try await type(LonghornCRDs.group, "snapshots")
        let volumes = try await type(LonghornCRDs.group, "volumes")
        for snapshot in try await store.list(snapshots, namespace: namespace).items {
            guard let name = snapshot[path: ["metadata", "name"]]?.stringValue,
                snapshot[path: ["status", "readyToUse"]]?.boolValue != true,
                let volume = snapshot[path: ["spec", "volume"]]?.stringValue
            else { continue }
            guard snapshot[path: ["spec", "createSnapshot"]]?.boolValue == true else {
                // Without createSnapshot the CR only mirrors an engine snapshot, and there is none:
                // the engine controller deletes such CRs (controller/snapshot_controller.go).
                _ = try? await store.delete(snapshots, namespace: namespace, name: name)
                continue
            }
            guard await store.find(volumes, namespace: namespace, name: volume) != nil, !(await faults.snapshotNeverReady) else { continue }
            let source = volumeDirectory(volume)
            let target = snapshotDirectory(volume: volume, snapshot: name)
            do {
                try FileManager.default.createDirectory(at: source, withIntermediateDirectories: true)
                try? FileManager.default.removeItem(at: target)
                try FileManager.default.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
                if await faults.staleSnapshots {
                    try FileManager.default.createDirectory(at: target, withIntermediateDirectories: true)
                } else {
                    try FileManager.default.copyItem(at: source, to: target)
                }
            } catch {
                let message = "cannot take the snapshot: \(error)"
                await setStatus(snapshots, name) { $0["error"] = .string(message) }
                continue
            }
            let stamp = now
            let size = Self.folderSize(target)
            await setStatus(snapshots, name) { status in
                status["readyToUse"] = true
                status["creationTime"] = .string(stamp)
                status["userCreated"] = true
                status["size"] = .number(Double(size))
                status["restoreSize"] = .number(Double(size))
                status["error"] = nil
            }
        }
    }

    static func folderSize(_ folder: URL) -> Int64 {
        let items = FileManager.default.enumerator(at: folder, includingPropertiesForKeys: [.fileSizeKey])
        var total: Int64 = 0
        while let item = items?.nextObject() as? URL {
            total += Int64((try? item.resourceValues(forKeys: [.fileSizeKey]).fileSize) ?? 0)
        }
        return total
    }

    /// Uploads a user backup: the snapshot's files become an ext4 image cut into Longhorn blocks.
    func performBackup(_ name: String) async {
        guard let backups = await store.type(group: LonghornCRDs.group, resource: "backups"),
            let snapshots = await store.type(group: LonghornCRDs.group, resource: "snapshots"),
            let volumes = await store.type(group: LonghornCRDs.group, resource: "volumes"),
            let backup = await store.find(backups, namespace: namespace, name: name)
        else { return }
        let snapshotName = backup[path: ["spec", "snapshotName"]]?.stringValue ?? ""
        let volumeName = backup[path: ["metadata", "labels", "backup-volume"]]?.stringValue ?? ""
        let targetName = backup[path: ["metadata", "labels", "backup-target"]]?.stringValue ?? "default"
        func fail(_ message: String) async {
            await setStatus(backups, name) { status in
                status["state"] = "Error"
                status["error"] = .string(message)
            }
        }
        guard let volume = await store.find(volumes, namespace: namespace, name: volumeName) else {
            return await fail("cannot find the corresponding volume \(volumeName)")
        }
        guard let snapshot = await store.find(snapshots, namespace: namespace, name: snapshotName),
            snapshot[path: ["status", "readyToUse"]]?.boolValue == true
        else {
            await setStatus(backups, name) { $0["state"] = "Pending" }
            return
        }
        await setStatus(backups, name) { status in
            status["state"] = "InProgress"
            status["progress"] = 0
            status["snapshotName"] = .string(snapshotName)
            status["volumeName"] = .string(volumeName)
        }
        if let message = await faults.backupError { return await fail(message) }
        guard let url = await targetURL(targetName), let objects = await objectStore(for: url) else {
            return await fail("backup target \(targetName) is unavailable: cannot reach the backup store")
        }
        let size = Int64(volume[path: ["spec", "size"]]?.stringValue ?? "") ?? 0
        let scratch = options.dataRoot.appendingPathComponent("scratch").appendingPathComponent("\(name)-\(UUID().uuidString).img")
        defer { try? FileManager.default.removeItem(at: scratch) }
        do {
            try FileManager.default.createDirectory(at: scratch.deletingLastPathComponent(), withIntermediateDirectories: true)
            // mke2fs needs room for its metadata: at least 16 MiB.
            try VolumeDataStore.makeSparseFile(scratch, size: max(size, 16 << 20))
            try await ToolRunner.run(
                "mke2fs",
                [
                    "-q", "-F", "-t", "ext4", "-b", "4096", "-d", snapshotDirectory(volume: volumeName, snapshot: snapshotName).path,
                    // The filesystem's root belongs to whoever runs the simulator, so a restore
                    // (debugfs rdump keeps owners) works without root too.
                    "-E", "root_owner=\(getuid()):\(getgid())", scratch.path,
                ])
            let compression = (try? CompressionMethod(parsing: volume[path: ["spec", "backupCompressionMethod"]]?.stringValue ?? "lz4")) ?? .lz4
            var labels = (backup[path: ["spec", "labels"]]?.objectValue ?? [:]).compactMapValues(\.stringValue)
            labels["longhorn.io/volume-access-mode"] = labels["longhorn.io/volume-access-mode"] ?? volume[path: ["spec", "accessMode"]]?.stringValue ?? "rwo"
            let writer = BackupWriter(store: objects, layout: BackupstoreLayout(targetURL: url))
            let result = try await writer.backup(
                imageAt: scratch, volumeName: volumeName, backupName: name,
                options: .init(
                    compression: compression, snapshotName: snapshotName,
                    snapshotCreatedAt: Self.date(snapshot[path: ["status", "creationTime"]]?.stringValue), labels: labels),
                now: store.now())
            if await faults.corruptUploadedBlock, let block = result.config.blocks.first {
                let key = BackupstoreLayout(targetURL: url).blockKey(volume: volumeName, checksum: block.blockChecksum)
                var bytes = try await objects.get(key)
                bytes[bytes.startIndex + bytes.count / 2] ^= 0xFF
                try await objects.put(key, data: bytes)
            }
            let target = personality.labelsBackupVolumes ? targetName : nil
            let stamp = now
            await setStatus(backups, name) { status in
                Self.fillStatus(&status, config: result.config, volumeSize: size, url: Self.backupURL(url, backup: name, volume: volumeName), target: target)
                status["lastSyncedAt"] = .string(stamp)
                status["newlyUploadDataSize"] = .string(String(result.bytesUploaded))
            }
            // Like Longhorn's backup controller on completion: ask the volume's BackupVolume to sync
            // now, or the target when there is no BackupVolume yet, so lastBackupName follows soon.
            await requestSyncAfterBackup(volume: volumeName, target: targetName, at: stamp)
        } catch {
            await fail("failed to upload the backup: \(error)")
        }
    }

    func requestSyncAfterBackup(volume: String, target: String, at stamp: String) async {
        guard let backupVolumes = await store.type(group: LonghornCRDs.group, resource: "backupvolumes"),
            let targets = await store.type(group: LonghornCRDs.group, resource: "backuptargets")
        else { return }
        let all = (try? await store.list(backupVolumes, namespace: namespace).items) ?? []
        let match = all.first { isBackupVolume($0, of: volume, on: target) }
        if let name = match?[path: ["metadata", "name"]]?.stringValue {
            await setSpec(backupVolumes, name) { $0[path: ["spec", "syncRequestedAt"]] = .string(stamp) }
        } else {
            await setSpec(targets, target) { $0[path: ["spec", "syncRequestedAt"]] = .string(stamp) }
        }
    }

    /// Damages one byte of a file in place, as a bad disk write would.
    static func flipByte(in file: URL, at offset: Int64) throws {
        let handle = try FileHandle(forUpdating: file)
        defer { try? handle.close() }
        try handle.seek(toOffset: UInt64(offset))
        var byte = try handle.read(upToCount: 1) ?? Data([0])
        byte[byte.startIndex] ^= 0xFF
        try handle.seek(toOffset: UInt64(offset))
        try handle.write(contentsOf: byte)
    }

    // MARK: - Volumes

    func reconcileVolumes() async throws -> [Job] {
        let volumes = try await type(LonghornCRDs.group, "volumes")
        var jobs: [Job] = []
        for volume in try await store.list(volumes, namespace: namespace).items {
            guard let name = volume[path: ["metadata", "name"]]?.stringValue, volume[path: ["metadata", "deletionTimestamp"]] == nil else { continue }
            let state = volume[path: ["status", "state"]]?.stringValue ?? ""
            let restoring = volume[path: ["status", "restoreRequired"]]?.boolValue == true
            let fromBackup = volume[path: ["spec", "fromBackup"]]?.stringValue ?? ""
            switch state {
            case "":
                await setStatus(volumes, name) { status in
                    status["state"] = "creating"
                    status["robustness"] = "unknown"
                    status["restoreRequired"] = false
                    status["restoreInitiated"] = false
                }
            case "creating":
                try? FileManager.default.createDirectory(at: volumeDirectory(name), withIntermediateDirectories: true)
                let restore = !fromBackup.isEmpty
                await setStatus(volumes, name) { status in
                    // For a restore this `detached` comes before any data is back (longhorn-facts 4.4).
                    status["state"] = "detached"
                    status["restoreRequired"] = .bool(restore)
                    status["restoreInitiated"] = .bool(restore)
                    status["conditions"] = [["type": "Scheduled", "status": "True", "reason": "", "message": ""]]
                }
            case "detached" where restoring:
                await setStatus(volumes, name) { $0["state"] = "attaching" }
            case "attaching" where restoring:
                await setStatus(volumes, name) { status in
                    status["state"] = "attached"
                    status["robustness"] = "healthy"
                    status["conditions"] = [
                        ["type": "Scheduled", "status": "True", "reason": "", "message": ""],
                        ["type": "Restore", "status": "True", "reason": "RestoreInProgress", "message": ""],
                    ]
                }
            case "attached" where restoring && volume[path: ["status", "robustness"]]?.stringValue != "faulted":
                jobs.append(.restore(name))
            case "detaching":
                await setStatus(volumes, name) { status in
                    status["state"] = "detached"
                    status["robustness"] = "unknown"
                }
            default: break
            }
        }
        return jobs
    }

    /// Reads the backup back from the store, verifying every block, and unpacks its files into the volume.
    func performRestore(_ name: String) async {
        guard let volumes = await store.type(group: LonghornCRDs.group, resource: "volumes"),
            let volume = await store.find(volumes, namespace: namespace, name: name),
            let fromBackup = volume[path: ["spec", "fromBackup"]]?.stringValue
        else { return }
        func fault(_ message: String) async {
            await setStatus(volumes, name) { status in
                status["robustness"] = "faulted"
                status["conditions"] = [
                    ["type": "Scheduled", "status": "True", "reason": "", "message": ""],
                    ["type": "Restore", "status": "False", "reason": "RestoreFailure", "message": .string(message)],
                ]
            }
        }
        if await faults.restoreStalls {
            // Holds the job open so the pass does not start it again; ends with the simulation.
            while !Task.isCancelled { try? await Task.sleep(for: .seconds(3600)) }
            return
        }
        if await faults.restoreFaults { return await fault("All replica restore failed and the volume became Faulted") }
        let parts = fromBackup.split(separator: "?", maxSplits: 1)
        let targetURL = String(parts.first ?? "")
        let query = URLComponents(string: fromBackup)?.queryItems ?? []
        guard let backupName = query.first(where: { $0.name == "backup" })?.value, let storeVolume = query.first(where: { $0.name == "volume" })?.value,
            let objects = await objectStore(for: targetURL)
        else { return await fault("cannot reach the backup store of \(targetURL)") }
        let scratch = options.dataRoot.appendingPathComponent("scratch").appendingPathComponent("restore-\(name)-\(UUID().uuidString).img")
        defer { try? FileManager.default.removeItem(at: scratch) }
        do {
            try FileManager.default.createDirectory(at: scratch.deletingLastPathComponent(), withIntermediateDirectories: true)
            let reader = BackupReader(store: objects, layout: BackupstoreLayout(targetURL: targetURL))
            _ = try await reader.restore(volume: storeVolume, backup: backupName, to: scratch)
            let folder = volumeDirectory(name)
            try? FileManager.default.removeItem(at: folder)
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            let output: String
            do {
                output = try await ToolRunner.run("debugfs", ["-R", "rdump / \(folder.path)", scratch.path])
            } catch let failure as ToolRunner.Failure where geteuid() != 0 || failure.output.contains("Bad magic") {
                output = failure.output
            }
            // Longhorn restores blocks, not files: an image without an ext4 filesystem (a raw
            // device's data) restores all the same, and its folder simply shows no files.
            if !output.contains("Bad magic") {
                // Without root, owners other than the user's cannot be kept (like `cp -a`): not a data loss.
                let problems = output.split(separator: "\n").filter {
                    $0.hasPrefix("rdump:") && !(geteuid() != 0 && $0.contains("while changing ownership"))
                }
                if !problems.isEmpty { throw ToolRunner.Failure(command: ["debugfs", "rdump"], status: 1, output: output) }
            }
            if await faults.corruptRestoredData, let first = try await reader.backupConfig(volume: storeVolume, backup: backupName).blocks.first {
                try Self.flipByte(in: scratch, at: first.offset + 4096 + 17)
            }
            // The restored image is also the volume's block device (a PV of volumeMode Block reads it).
            try cluster.volumes.setBlockImage(volumeKey: name, from: scratch)
        } catch {
            return await fault("All replica restore failed and the volume became Faulted: \(error)")
        }
        await setStatus(volumes, name) { status in
            status["restoreRequired"] = false
            status["state"] = "detaching"
            status["conditions"] = [
                ["type": "Scheduled", "status": "True", "reason": "", "message": ""],
                ["type": "Restore", "status": "False", "reason": "", "message": ""],
            ]
        }
    }
}
