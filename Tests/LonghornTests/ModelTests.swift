import Foundation
import KubeModels
import Testing

@testable import Longhorn

@Suite struct ModelTests {
    /// A Volume as a v1.10 manager shows it, with fields this tool does not model.
    static let serverVolume: JSONValue = [
        "apiVersion": "longhorn.io/v1beta2", "kind": "Volume",
        "metadata": [
            "name": "dr-exercise-data", "namespace": "longhorn-system", "resourceVersion": "42", "uid": "u-1",
            "finalizers": ["longhorn.io"], "labels": ["backup-volume": "dr-exercise-data", "recurring-job-group.longhorn.io/default": "enabled"],
        ],
        "spec": [
            "size": "1073741824", "frontend": "blockdev", "fromBackup": "s3://b@r/p?backup=backup-1&volume=dr-exercise-data",
            "numberOfReplicas": 3, "accessMode": "rwo", "dataEngine": "v1", "Standby": false, "backupTargetName": "default",
            "image": "longhornio/longhorn-engine:v1.10.2", "dataLocality": "disabled", "backupBlockSize": "2097152",
        ],
        "status": [
            "state": "detached", "robustness": "unknown", "restoreRequired": false, "restoreInitiated": true, "isStandby": false,
            "lastBackup": "backup-1", "actualSize": 123, "currentNodeID": "",
            "conditions": [
                ["type": "Restore", "status": "False", "reason": "", "message": "", "lastProbeTime": "", "lastTransitionTime": "2026-11-27T03:00:00Z"]
            ],
        ],
    ]

    @Test func decodesTheFieldsWeUse() throws {
        let volume = try Volume(json: Self.serverVolume)
        #expect(volume.spec.size == 1_073_741_824)
        #expect(volume.spec.standby == false)
        #expect(volume.spec.frontend == "blockdev")
        #expect(volume.status?.restoreInitiated == true)
        #expect(volume.status?.condition("Restore")?.status == "False")
        #expect(volume.metadata.label("backup-volume") == "dr-exercise-data")
    }

    @Test func roundTripKeepsUnknownFields() throws {
        let volume = try Volume(json: Self.serverVolume)
        #expect(volume.json == Self.serverVolume, "unchanged model writes back exactly what came in")
        #expect(volume.changes == [:])

        var edited = volume
        edited.spec.numberOfReplicas = 2
        edited.metadata.labels?["lhdr"] = "yes"
        var expected = Self.serverVolume
        expected[path: ["spec", "numberOfReplicas"]] = 2
        expected[path: ["metadata", "labels", "lhdr"]] = "yes"
        #expect(edited.json == expected)
        #expect(edited.json[path: ["spec", "image"]] == "longhornio/longhorn-engine:v1.10.2")
        #expect(edited.json[path: ["status", "conditions"]] == Self.serverVolume[path: ["status", "conditions"]], "lastProbeTime survives")
        #expect(edited.changes == ["metadata": ["labels": ["lhdr": "yes"]], "spec": ["numberOfReplicas": 2]], "a merge patch of just the edits")

        var cleared = volume
        cleared.spec.fromBackup = nil
        #expect(cleared.changes == ["spec": ["fromBackup": .null]])
        #expect(cleared.json[path: ["spec", "fromBackup"]] == nil)
    }

    @Test func sizeIsAQuotedInt64AndStandbyHasACapitalS() throws {
        let volume = Volume(
            metadata: ResourceMetadata(name: "v", namespace: "longhorn-system"),
            spec: Volume.Spec(size: 10_737_418_240, frontend: "blockdev", standby: true))
        let json = volume.json
        #expect(json[path: ["spec", "size"]] == .string("10737418240"))
        #expect(json[path: ["spec", "Standby"]] == true)
        #expect(json[path: ["spec", "standby"]] == nil)
        #expect(json.jsonText.contains("\"size\":\"10737418240\""))
        #expect(json["apiVersion"] == "longhorn.io/v1beta2")
        #expect(json["kind"] == "Volume")
        let noSize = Volume(metadata: ResourceMetadata(name: "v"), spec: Volume.Spec(frontend: "blockdev"))
        #expect(noSize.json[path: ["spec", "size"]] == nil, "nil size is left out, not null")
        // Reading tolerates a bare number, an empty string and null.
        let cases: [(JSONValue, Int64?)] = [(.number(5), 5), (.string(""), nil), (.null, nil)]
        for (raw, expected) in cases {
            let decoded = try Volume(json: ["metadata": ["name": "v"], "spec": ["size": raw]])
            #expect(decoded.spec.size == expected)
        }
        let error = #expect(throws: LonghornError.self) { try Volume(json: ["metadata": ["name": "v"], "spec": ["size": "1Gi"]]) }
        #expect(error?.code == .decoding)
        #expect(error?.subject == "volumes.longhorn.io v")
    }

    @Test func settingValueIsTopLevel() throws {
        let setting = try Setting(json: [
            "apiVersion": "longhorn.io/v1beta2", "kind": "Setting",
            "metadata": ["name": "current-longhorn-version", "namespace": "longhorn-system"], "value": "v1.10.2", "status": ["applied": true],
        ])
        #expect(setting.value == "v1.10.2")
        #expect(setting.json["status"] == ["applied": true])
    }

    @Test func backupHelpers() throws {
        let backup = try Backup(json: [
            "metadata": ["name": "backup-1", "labels": ["backup-volume": "vol"]],
            "status": [
                "state": "Error", "error": "failed to upload", "messages": ["b": "second", "a": "first"], "snapshotCreatedAt": "2026-11-20T10:00:00Z",
                "volumeSize": "2147483648", "newlyUploadDataSize": "0",
            ],
        ])
        #expect(backup.hasFailed)
        #expect(backup.errorText == "failed to upload; a: first; b: second")
        #expect(backup.volumeName == "vol")
        #expect(backup.volumeSizeBytes == 2_147_483_648)
        #expect(backup.pointInTime == Fixtures.time("2026-11-20T10:00:00Z"))
        #expect(Backup.isValidName(Backup.generateName()))
        #expect(Backup.generateName().wholeMatch(of: #/backup-[0-9a-f]{16}/#) != nil)
        for bad in ["Backup-1", "-backup", "b", "backup 1", "backup/1", ""] { #expect(!Backup.isValidName(bad), "\(bad)") }
        for good in ["backup-0123456789abcdef", "a1", "0_x.y-z"] { #expect(Backup.isValidName(good), "\(good)") }
    }

    @Test func timesParseWithAndWithoutFractions() {
        #expect(LonghornTime.parse("2026-11-27T03:04:05Z") != nil)
        #expect(LonghornTime.parse("2026-11-27T03:04:05.123456Z") != nil)
        #expect(LonghornTime.parse("") == nil)
        #expect(LonghornTime.parse(nil) == nil)
        #expect(LonghornTime.format(Fixtures.time("2026-11-27T03:04:05Z")) == "2026-11-27T03:04:05Z")
    }
}

@Suite struct RecurringJobTests {
    @Test func defaultGroupAppliesToUnlabelledVolumes() throws {
        let job = try RecurringJob(json: [
            "apiVersion": "longhorn.io/v1beta2", "kind": "RecurringJob",
            "metadata": ["name": "nightly", "namespace": "longhorn-system"],
            "spec": [
                "name": "nightly", "groups": ["default"], "task": "backup", "cron": "0 2 * * *", "retain": 7, "concurrency": 1, "labels": [:],
                "parameters": ["full-backup-interval": "0"],
            ],
        ])
        #expect(job.spec?.task == "backup")
        #expect(job.applies(toVolumeLabels: [:]), "no recurring-job labels = default group")
        #expect(job.applies(toVolumeLabels: ["app": "x"]))
        #expect(!job.applies(toVolumeLabels: ["recurring-job-group.longhorn.io/weekly": "enabled"]))
        #expect(job.applies(toVolumeLabels: ["recurring-job.longhorn.io/nightly": "enabled"]))
        #expect(job.json[path: ["spec", "parameters"]] == ["full-backup-interval": "0"], "unknown fields survive")
    }
}
