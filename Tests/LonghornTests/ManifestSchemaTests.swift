import Foundation
import KubeModels
import SimulatorTestSupport
import Testing

@testable import Longhorn

/// Every object this target sends to Longhorn, checked against the real CRD schema of each
/// reference release (v1.7.3, v1.9.2, v1.10.2, v1.12.1).
@Suite struct ManifestSchemaTests {
    static let syncTime = Fixtures.time("2026-11-27T03:04:05Z")

    /// The objects `LonghornClient` creates or patches on `version`, by plural resource name.
    static func sentObjects(_ version: LonghornVersion) throws -> [(plural: String, kind: String, object: JSONValue)] {
        let ns = Fixtures.namespace
        let restore = try LonghornManifests.restoreVolume(
            name: "dr-exercise-data", namespace: ns, backup: Fixtures.backup(),
            options: VolumeOptions(numberOfReplicas: 3, accessMode: "rwo"), version: version)
        let rwx = try LonghornManifests.freshVolume(
            name: "shared-data", namespace: ns, sizeBytes: 5_368_709_120,
            options: VolumeOptions(numberOfReplicas: 2, accessMode: "rwx", labels: ["app": "dr"]), version: version)
        let fresh = try LonghornManifests.freshVolume(name: "dr-exercise-data", namespace: ns, sizeBytes: 1_073_741_824, version: version)
        let snapshot = LonghornManifests.snapshot(name: "snap-0123456789abcdef", namespace: ns, volume: "dr-exercise-data", labels: ["lhdr": "drill"])
        let backup = try LonghornManifests.backup(
            name: "backup-0123456789abcdef", namespace: ns, snapshot: "snap-0123456789abcdef",
            volume: "dr-exercise-data", version: version)
        let fullBackup = try LonghornManifests.backup(
            name: "backup-00000000000000ff", namespace: ns, snapshot: "snap-0123456789abcdef",
            volume: "dr-exercise-data", mode: "full", version: version)
        var targetPatch = LonghornManifests.syncRequest(at: syncTime)
        targetPatch["apiVersion"] = "longhorn.io/v1beta2"
        targetPatch["kind"] = "BackupTarget"
        targetPatch["metadata"] = ["name": "default", "namespace": .string(ns)]
        var volumePatch = LonghornManifests.syncRequest(at: syncTime)
        volumePatch["apiVersion"] = "longhorn.io/v1beta2"
        volumePatch["kind"] = "BackupVolume"
        volumePatch["metadata"] = ["name": "dr-exercise-data-77a0e0e7", "namespace": .string(ns)]
        return [
            ("volumes", "Volume", restore.json), ("volumes", "Volume", rwx.json), ("volumes", "Volume", fresh.json),
            ("snapshots", "Snapshot", snapshot.json), ("backups", "Backup", backup.json), ("backups", "Backup", fullBackup.json),
            ("backuptargets", "BackupTarget", targetPatch), ("backupvolumes", "BackupVolume", volumePatch),
        ]
    }

    @Test(arguments: LonghornCRDs.releases)
    func everySentObjectMatchesTheRealSchema(release: String) throws {
        let crds = try LonghornCRDs.load(release)
        let objects = try Self.sentObjects(Fixtures.version(release))
        #expect(objects.count == 8)
        for (plural, kind, object) in objects {
            let schema = try #require(crds.schema(plural), "\(release) has no v1beta2 schema for \(plural)")
            let problems = StructuralSchemaValidator(schema: schema).problems(in: object, kind: kind)
            #expect(problems.isEmpty, "\(kind) on \(release): \(problems.joined(separator: "; "))\n\(object.jsonText)")
        }
    }

    /// The checker is not vacuous: it refuses what the API server would refuse.
    @Test func theValidatorRejectsWhatTheServerRejects() throws {
        let crds = try LonghornCRDs.load("v1.7.3")
        let volumeSchema = try #require(crds.schema("volumes"))
        let validator = StructuralSchemaValidator(schema: volumeSchema)
        let base: JSONValue = ["apiVersion": "longhorn.io/v1beta2", "kind": "Volume", "metadata": ["name": "v", "namespace": "longhorn-system"]]
        var unquoted = base
        unquoted["spec"] = ["size": 1_073_741_824, "frontend": "blockdev"]
        #expect(validator.problems(in: unquoted, kind: "Volume").contains { $0.hasPrefix("spec.size: want string") })
        var humanSize = base
        humanSize["spec"] = ["size": "1Gi", "frontend": "blockdev"]
        #expect(validator.problems(in: humanSize, kind: "Volume").contains { $0.contains("not an int64") })
        var badEnum = base
        badEnum["spec"] = ["frontend": "ublk", "dataEngine": "v3"]
        let enumProblems = validator.problems(in: badEnum, kind: "Volume")
        #expect(enumProblems.contains { $0.hasPrefix("spec.frontend") }, "ublk arrived in v1.8")
        #expect(enumProblems.contains { $0.hasPrefix("spec.dataEngine") })
        var newerField = base
        newerField["spec"] = ["backupTargetName": "default"]
        #expect(validator.problems(in: newerField, kind: "Volume") == ["spec.backupTargetName: unknown field"], "v1.7 has no backupTargetName")
        var lowercase = base
        lowercase["spec"] = ["standby": true]
        #expect(validator.problems(in: lowercase, kind: "Volume") == ["spec.standby: unknown field"], "the field is Standby")

        let bvSchema = try #require(crds.schema("backupvolumes"))
        var urlField: JSONValue = ["apiVersion": "longhorn.io/v1beta2", "kind": "BackupVolume", "metadata": ["name": "v"]]
        urlField["status"] = ["lastBackupURL": "s3://x"]
        #expect(StructuralSchemaValidator(schema: bvSchema).problems(in: urlField, kind: "BackupVolume") == ["status.lastBackupURL: unknown field"])

        let snapshotSchema = try #require(crds.schema("snapshots"))
        let noVolume: JSONValue = ["apiVersion": "longhorn.io/v1beta2", "kind": "Snapshot", "metadata": ["name": "s"], "spec": ["createSnapshot": true]]
        #expect(StructuralSchemaValidator(schema: snapshotSchema).problems(in: noVolume, kind: "Snapshot") == ["spec.volume: required"])

        let targetSchema = try #require(crds.schema("backuptargets"))
        let badTime: JSONValue = [
            "apiVersion": "longhorn.io/v1beta2", "kind": "BackupTarget", "metadata": ["name": "default"],
            "spec": ["syncRequestedAt": "27/11/2026"],
        ]
        #expect(StructuralSchemaValidator(schema: targetSchema).problems(in: badTime, kind: "BackupTarget").contains { $0.contains("RFC 3339") })
        #expect(StructuralSchemaValidator.metadataProblems(["name": "x", "labels": ["a": 1]]) == ["metadata.labels.a: must be a string"])
    }

    @Test func everyReleaseHasTheKindsWeUse() throws {
        for crds in try LonghornCRDs.loadAll() {
            for plural in ["volumes", "snapshots", "backups", "backupvolumes", "backuptargets", "settings", "recurringjobs"] {
                #expect(crds.schema(plural) != nil, "\(crds.release) lacks \(plural).longhorn.io v1beta2")
            }
        }
    }

    /// The PV is a built-in kind: checked by hand against the PersistentVolume API fields.
    @Test func persistentVolumeHasTheShapeKubernetesAccepts() {
        let request = PersistentVolumeRequest(
            volumeName: "dr-exercise-data", capacityBytes: 1_073_741_824, accessMode: "rwo",
            storageClassName: "longhorn", fsType: "ext4", claim: ClaimReference(namespace: "dr-exercise", name: "dr-exercise-data"))
        let pv = request.manifest
        #expect(PersistentVolumeCheck.problems(pv).isEmpty, "\(PersistentVolumeCheck.problems(pv))")
        #expect(pv[path: ["metadata", "name"]] == "dr-exercise-data")
        #expect(pv[path: ["spec", "csi", "driver"]] == "driver.longhorn.io")
        #expect(pv[path: ["spec", "csi", "volumeHandle"]] == "dr-exercise-data")
        #expect(pv[path: ["spec", "csi", "fsType"]] == "ext4")
        #expect(pv[path: ["spec", "persistentVolumeReclaimPolicy"]] == "Retain")
        #expect(pv[path: ["spec", "volumeMode"]] == "Filesystem")
        #expect(pv[path: ["spec", "storageClassName"]] == "longhorn")
        #expect(pv[path: ["spec", "capacity", "storage"]] == "1Gi")
        #expect(pv[path: ["spec", "accessModes"]] == ["ReadWriteOnce"])
        #expect(
            pv[path: ["spec", "claimRef"]] == ["apiVersion": "v1", "kind": "PersistentVolumeClaim", "namespace": "dr-exercise", "name": "dr-exercise-data"])
        #expect(pv[path: ["spec", "claimRef", "uid"]] == nil, "pre-bound by name only")

        var rwx = request
        rwx.accessMode = "rwx"
        rwx.capacityBytes = 1_500_000_000
        #expect(rwx.manifest[path: ["spec", "accessModes"]] == ["ReadWriteMany"])
        #expect(rwx.manifest[path: ["spec", "capacity", "storage"]] == "1500000000")
        #expect(PersistentVolumeCheck.problems(rwx.manifest).isEmpty)
        #expect(PersistentVolumeRequest.quantity(bytes: 512 * 1024 * 1024) == "512Mi")
        #expect(PersistentVolumeRequest.quantity(bytes: 2 * 1024 * 1024 * 1024 * 1024) == "2Ti")

        var broken = pv
        broken[path: ["spec", "csi", "volumeHandle"]] = nil
        broken[path: ["spec", "claimref"]] = ["name": "x"]
        #expect(PersistentVolumeCheck.problems(broken).count == 2)
    }
}

/// A hand-written check of the PersistentVolume fields we send (core/v1 PersistentVolumeSpec).
enum PersistentVolumeCheck {
    static func problems(_ pv: JSONValue) -> [String] {
        var problems: [String] = []
        if pv["apiVersion"] != "v1" { problems.append("apiVersion must be v1") }
        if pv["kind"] != "PersistentVolume" { problems.append("kind must be PersistentVolume") }
        problems += StructuralSchemaValidator.metadataProblems(pv["metadata"])
        if pv[path: ["metadata", "namespace"]] != nil { problems.append("metadata.namespace: PVs are cluster-scoped") }
        guard let spec = pv["spec"]?.objectValue else { return problems + ["spec missing"] }
        let known: Set<String> = [
            "capacity", "accessModes", "persistentVolumeReclaimPolicy", "volumeMode", "storageClassName", "csi", "claimRef",
            "mountOptions", "nodeAffinity", "volumeAttributesClassName",
        ]
        for key in spec.keys.sorted() where !known.contains(key) { problems.append("spec.\(key): unknown field") }
        let quantity = #/^[0-9]+(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$/#
        if let storage = spec["capacity"]?["storage"]?.stringValue {
            if (try? quantity.wholeMatch(in: storage)) == nil { problems.append("spec.capacity.storage: \(storage) is not a quantity") }
        } else {
            problems.append("spec.capacity.storage: required")
        }
        let modes = spec["accessModes"]?.arrayValue ?? []
        if modes.isEmpty { problems.append("spec.accessModes: required") }
        for mode in modes where !["ReadWriteOnce", "ReadOnlyMany", "ReadWriteMany", "ReadWriteOncePod"].contains(mode.stringValue ?? "") {
            problems.append("spec.accessModes: \(mode.jsonText) is not an access mode")
        }
        if !["Retain", "Delete", "Recycle"].contains(spec["persistentVolumeReclaimPolicy"]?.stringValue ?? "") {
            problems.append("spec.persistentVolumeReclaimPolicy: invalid")
        }
        if !["Filesystem", "Block"].contains(spec["volumeMode"]?.stringValue ?? "") { problems.append("spec.volumeMode: invalid") }
        if spec["storageClassName"]?.stringValue == nil { problems.append("spec.storageClassName: must be a string") }
        if let csi = spec["csi"]?.objectValue {
            let csiKnown: Set<String> = [
                "driver", "volumeHandle", "readOnly", "fsType", "volumeAttributes", "controllerPublishSecretRef",
                "nodeStageSecretRef", "nodePublishSecretRef", "controllerExpandSecretRef", "nodeExpandSecretRef",
            ]
            for key in csi.keys.sorted() where !csiKnown.contains(key) { problems.append("spec.csi.\(key): unknown field") }
            if csi["driver"]?.stringValue?.isEmpty != false { problems.append("spec.csi.driver: required") }
            if csi["volumeHandle"]?.stringValue?.isEmpty != false { problems.append("spec.csi.volumeHandle: required") }
        } else {
            problems.append("spec.csi: required")
        }
        if let claimRef = spec["claimRef"]?.objectValue {
            let refKnown: Set<String> = ["apiVersion", "kind", "namespace", "name", "uid", "resourceVersion", "fieldPath"]
            for key in claimRef.keys.sorted() where !refKnown.contains(key) { problems.append("spec.claimRef.\(key): unknown field") }
            if claimRef["kind"] != "PersistentVolumeClaim" { problems.append("spec.claimRef.kind: must be PersistentVolumeClaim") }
            if claimRef["namespace"]?.stringValue?.isEmpty != false || claimRef["name"]?.stringValue?.isEmpty != false {
                problems.append("spec.claimRef: namespace and name required")
            }
        }
        return problems
    }
}
