import DRCore
import Foundation
import Testing

/// Loads `text` expecting failure and returns the issues (records a test failure if it loaded).
func issues(_ text: String, kind: ConfigKind? = nil, sourceLocation: SourceLocation = #_sourceLocation) -> [ConfigIssue] {
    do {
        let loaded = try ConfigLoader.load(text, file: "test.yaml", expected: kind)
        Issue.record("expected the config to be rejected, but it loaded as \(loaded.kind)", sourceLocation: sourceLocation)
        return []
    } catch {
        return error.issues
    }
}

@Suite struct ExerciseConfigTests {
    @Test func minimalConfigTakesThePlansDefaults() throws {
        let config = try ConfigLoader.loadExercise(
            """
            apiVersion: longhorn-dr/v1
            kind: ExerciseConfig
            cluster:
              name: dev
            """, file: "min.yaml")
        #expect(config.cluster.destroy == ["task", "tg:destroy-dev", "--", "-auto-approve"])
        #expect(config.cluster.rebuild == ["task", "tg:apply-dev", "--", "-auto-approve"])
        #expect(config.cluster.kubeconfig == .ssm(parameter: "/homelab/kubernetes/dev/kubeconfig", region: nil, profile: nil, path: "~/.kube/dev.yaml"))
        #expect(config.workloads[0].pvc == "dr-exercise-data")
        #expect(config.workloads[0].volume == "dr-exercise-data")
        #expect(config.workloads[0].mountPath == "/data")
        #expect(config.workloads[0].size.bytes == 1 << 30)
        #expect(config.budgets.total == .seconds(7200))
        #expect(config.budgets.target == .seconds(2700))
        #expect(config.budgets.stopGrace == .seconds(30))
        #expect(config.budgets.budget(for: .destroy) == .seconds(1800), "a terragrunt destroy takes 10–20 minutes")
        #expect(config.budgets.budget(for: .rebuild) == .seconds(1800))
        #expect(config.aws == ExerciseConfig.AWSAccess(credentials: .chain, profile: nil))
        #expect(config.longhorn.storeEndpoint == nil)
        #expect(config.longhorn.namespace == "longhorn-system")
        #expect(config.report.formats == [.console, .json, .junit, .markdown])
    }

    @Test func awsAccessStoreEndpointTargetAndGraceAreRead() throws {
        let config = try ConfigLoader.loadExercise(
            """
            kind: ExerciseConfig
            cluster: {name: dev}
            longhorn: {storeEndpoint: "https://minio.lan:9000"}
            aws: {credentials: aws-cli, profile: homelab}
            budgets: {total: 3h, target: 1h, stopGrace: 5s}
            """, file: "t.yaml")
        #expect(config.longhorn.storeEndpoint == "https://minio.lan:9000")
        #expect(config.aws == ExerciseConfig.AWSAccess(credentials: .awsCLI, profile: "homelab"))
        #expect(config.budgets.total == .seconds(10800))
        #expect(config.budgets.target == .seconds(3600))
        #expect(config.budgets.stopGrace == .seconds(5))
    }

    @Test func fluxNamesThatMayStayNotReadyAreReadAndChecked() throws {
        let config = try ConfigLoader.loadExercise(
            """
            kind: ExerciseConfig
            cluster: {name: dev}
            flux: {allowNotReady: [flux-system/optional-app, media]}
            """, file: "t.yaml")
        #expect(config.flux.allowNotReady == ["flux-system/optional-app", "media"])
        #expect(try ConfigLoader.loadExercise("kind: ExerciseConfig\ncluster: {name: dev}\n", file: "t.yaml").flux.allowNotReady.isEmpty)
        #expect(throws: ConfigError.self) {
            try ConfigLoader.loadExercise(
                "kind: ExerciseConfig\ncluster: {name: dev}\nflux: {allowNotReady: [\"a/b/c\", \"Bad_Name\"]}\n", file: "t.yaml")
        }
        do {
            _ = try ConfigLoader.loadExercise("kind: ExerciseConfig\ncluster: {name: dev}\nflux: {allowNotReady: [\"a/b/c\"], wait: true}\n", file: "t.yaml")
            Issue.record("a bad name and an unknown key were accepted")
        } catch {
            #expect("\(error)".contains("flux.allowNotReady[0]") && "\(error)".contains("NAMESPACE/NAME"), "\(error)")
            #expect("\(error)".contains("flux.wait"), "an unknown key is named: \(error)")
        }
    }

    @Test func alertmanagerIsReadAndAbsentMeansOff() throws {
        let config = try ConfigLoader.loadExercise(
            """
            kind: ExerciseConfig
            cluster: {name: dev}
            alertmanager:
              url: https://monitoring.example.org/alertmanager/
              allowFiring: [Watchdog, InfoInhibitor]
              caFile: ~/homelab-ca.pem
            """, file: "t.yaml")
        #expect(
            config.alertmanager
                == ExerciseConfig.Alertmanager(
                    url: "https://monitoring.example.org/alertmanager/", allowFiring: ["Watchdog", "InfoInhibitor"], caFile: "~/homelab-ca.pem"))
        #expect(try ConfigLoader.loadExercise("kind: ExerciseConfig\ncluster: {name: dev}\n", file: "t.yaml").alertmanager == nil)
        // Plain http is accepted anywhere: the gate only reads, and the URL carries no credentials.
        let plain = try ConfigLoader.loadExercise("kind: ExerciseConfig\ncluster: {name: dev}\nalertmanager: {url: \"http://10.0.0.5:9093\"}\n", file: "t.yaml")
        #expect(plain.alertmanager == ExerciseConfig.Alertmanager(url: "http://10.0.0.5:9093", allowFiring: [], caFile: nil))
    }

    @Test func alertmanagerProblemsAreReportedWithTheirLines() {
        let found = issues(
            """
            kind: ExerciseConfig
            cluster: {name: dev}
            alertmanager:
              url: ftp://alertmanager.lan
              allowFiring: [Watchdog, "", Watchdog]
              wait: 5m
            """)
        #expect(found.first { $0.path == "alertmanager.url" }?.line == 4, "\(found)")
        #expect(found.contains { $0.path == "alertmanager.url" && $0.message.contains("expected an http(s) URL") }, "\(found)")
        #expect(found.first { $0.path == "alertmanager.allowFiring[1]" }?.message.contains("expected an alert name") == true, "\(found)")
        #expect(found.first { $0.path == "alertmanager.allowFiring[2]" }?.message == "alert Watchdog is listed twice", "\(found)")
        #expect(found.first { $0.path == "alertmanager.wait" }?.line == 6, "an unknown key is named: \(found)")
        #expect(found.first { $0.path == "alertmanager.wait" }?.hint?.contains("url, allowFiring, caFile") == true, "\(found)")

        let credentials = issues("kind: ExerciseConfig\ncluster: {name: dev}\nalertmanager: {url: \"https://admin:s3cret@am.lan\"}\n")
        #expect(credentials.contains { $0.path == "alertmanager.url" && $0.message.contains("without a user or password") }, "\(credentials)")
        #expect(!credentials.contains { $0.message.contains("s3cret") }, "the password is not echoed")
        let query = issues("kind: ExerciseConfig\ncluster: {name: dev}\nalertmanager: {url: \"https://am.lan/?filter=x\"}\n")
        #expect(query.contains { $0.path == "alertmanager.url" && $0.message.contains("without a query") }, "\(query)")
        let missing = issues("kind: ExerciseConfig\ncluster: {name: dev}\nalertmanager: {allowFiring: [Watchdog]}\n")
        #expect(missing.contains { $0.path == "alertmanager.url" && $0.message == "is required but missing" }, "\(missing)")
        // A CA file that could do nothing is refused rather than ignored.
        let uselessCA = issues("kind: ExerciseConfig\ncluster: {name: dev}\nalertmanager: {url: \"http://am.lan:9093\", caFile: ca.pem}\n")
        #expect(uselessCA.contains { $0.path == "alertmanager.caFile" && $0.message.contains("applies only to an https:// url") }, "\(uselessCA)")
    }

    @Test func theAlertmanagerFactIsPartOfTheRebuildEvidence() {
        let cluster = RebuiltCluster(
            clusterFingerprint: "kube-system=uid-2", restoreStartedAt: "", flux: "4 Kustomizations and 1 HelmReleases Ready",
            alertmanager: "1 allowed alert firing: Watchdog")
        #expect(cluster.facts["alertmanager"] == "1 allowed alert firing: Watchdog")
        #expect(cluster.facts["flux"] == "4 Kustomizations and 1 HelmReleases Ready")
        #expect(RebuiltCluster(clusterFingerprint: "x", restoreStartedAt: "").facts["alertmanager"] == nil, "not configured: no fact")
    }

    @Test func awsCredentialsAndStoreEndpointAreChecked() {
        let found = issues(
            """
            kind: ExerciseConfig
            cluster: {name: dev}
            longhorn: {storeEndpoint: "http://minio.lan:9000"}
            aws: {credentials: sso}
            """)
        #expect(found.contains { $0.path == "aws.credentials" && $0.message.contains("chain, aws-cli") })
        #expect(found.contains { $0.path == "longhorn.storeEndpoint" }, "clear-text http only to this machine")
        let allowed = try? ConfigLoader.loadExercise(
            """
            kind: ExerciseConfig
            cluster: {name: dev}
            longhorn: {storeEndpoint: "http://minio.lan:9000"}
            aws: {allowInsecureEndpoint: true}
            """, file: "t.yaml")
        #expect(allowed?.aws.allowInsecureEndpoint == true && allowed?.longhorn.storeEndpoint == "http://minio.lan:9000")
    }

    @Test func severalWorkloadsAreReadAndMustBeDistinct() throws {
        let config = try ConfigLoader.loadExercise(
            """
            kind: ExerciseConfig
            cluster: {name: dev}
            workloads:
              - {namespace: apps, deployment: photos, pvc: photos}
              - {namespace: db, deployment: postgres, pvc: pgdata, volume: pg-volume, size: 2Gi}
            """, file: "t.yaml")
        #expect(config.workloads.map(\.volume) == ["photos", "pg-volume"])
        #expect(config.workloads[1].size.bytes == 2 << 30)
        let found = issues(
            """
            kind: ExerciseConfig
            cluster: {name: dev}
            sentinel: {size: 2Mi}
            workloads:
              - {namespace: apps, deployment: a, pvc: data, size: 1Mi}
              - {namespace: apps, deployment: b, pvc: data}
            """)
        #expect(found.contains { $0.path == "workloads[1].volume" && $0.message.contains("volume data is declared twice") }, "\(found)")
        #expect(found.contains { $0.path == "workloads[1].pvc" && $0.message.contains("PVC apps/data is declared twice") }, "\(found)")
        let both = issues("kind: ExerciseConfig\ncluster: {name: dev}\nworkload: {pvc: a}\nworkloads: [{pvc: b}]\n")
        #expect(both.contains { $0.path == "workloads" && $0.message.contains("either workload or workloads") })
        let empty = issues("kind: ExerciseConfig\ncluster: {name: dev}\nworkloads: []\n")
        #expect(empty.contains { $0.path == "workloads" && $0.message.contains("at least one") })
        let tooBig = issues("kind: ExerciseConfig\ncluster: {name: dev}\nsentinel: {size: 2Mi}\nworkloads: [{pvc: a, size: 1Mi}, {pvc: b, deployment: b}]\n")
        #expect(tooBig.contains { $0.path == "sentinel.size" && $0.message.contains("smallest volume's size") }, "\(tooBig)")
    }

    @Test func everyProblemIsReportedAtOnceWithLines() {
        let found = issues(
            """
            kind: ExerciseConfig
            cluster:
              name: Dev_Cluster
              destroy: []
            workload:
              namspace: dr
              size: 0Gi
            budgets:
              total: 10m
              phases:
                backup: 20m
            """)
        let paths = found.map(\.path)
        #expect(paths.contains("cluster.name"))
        #expect(paths.contains("cluster.destroy"))
        #expect(paths.contains("workload.namspace"))
        #expect(paths.contains("workload.size"))
        #expect(paths.contains("budgets.phases.backup"))
        #expect(found.first { $0.path == "workload.namspace" }?.hint == "did you mean 'namespace'?")
        #expect(found.first { $0.path == "workload.namspace" }?.line == 6)
        #expect(found.first { $0.path == "budgets.phases.backup" }?.line == 11)
    }

    @Test func commandGivenAsStringIsRefusedWithTheListForm() {
        let found = issues(
            """
            kind: ExerciseConfig
            cluster:
              name: dev
              rebuild: task tg:apply-dev -- -auto-approve
            """)
        #expect(found.count == 1)
        #expect(found[0].path == "cluster.rebuild")
        #expect(found[0].hint?.contains("[task, tg:apply-dev, --, -auto-approve]") == true)
    }

    @Test func defaultPhaseBudgetsAreCappedBySmallerTotal() throws {
        let config = try ConfigLoader.loadExercise(
            """
            kind: ExerciseConfig
            cluster: {name: dev}
            budgets: {total: 5m}
            """, file: "t.yaml")
        #expect(config.budgets.budget(for: .rebuild) == .seconds(300))
        #expect(config.budgets.budget(for: .preflight) == .seconds(120))
    }

    @Test func errorTextNamesFileLineAndPath() {
        do {
            _ = try ConfigLoader.load("kind: ExerciseConfig\ncluster:\n  name: dev\n  destroy: nope nope\n", file: "dev.yaml")
            Issue.record("should not load")
        } catch {
            let text = error.description
            #expect(text.contains("dev.yaml:4:"))
            #expect(text.contains("cluster.destroy"))
            #expect(error.asDRError.status == .usage)
        }
    }
}

@Suite struct RestoreConfigTests {
    @Test func volumesGetDefaults() throws {
        let config = try ConfigLoader.loadRestore(
            """
            kind: RestoreConfig
            volumes:
              - name: app-data
                pvc: {namespace: app, name: app-data}
                size: 5Gi
              - name: pinned
                pvc: {namespace: app, name: pinned}
                size: 1Gi
                restore: {backup: backup-abc}
                onMissingBackup: fail
              - name: dated
                pvc: {namespace: app, name: dated}
                size: 1Gi
                restore: {asOf: "2026-11-20T10:00:00Z"}
            """, file: "r.yaml")
        #expect(config.syncTimeout == .seconds(600))
        #expect(config.skipFlag == RestoreConfig.Defaults.skipFlag)
        let first = config.volumes[0]
        #expect(first.replicas == 3 && first.fsType == .ext4 && first.accessMode == .readWriteOnce)
        #expect(first.restore == .latest && first.onMissingBackup == .fresh)
        #expect(config.volumes[1].restore == .backup("backup-abc"))
        #expect(config.volumes[1].onMissingBackup == .fail)
        #expect(config.volumes[2].restore == .asOf(Date(timeIntervalSince1970: 1_795_168_800)))
    }

    @Test func configMapLinesPointIntoTheOuterFile() {
        let found = issues(
            """
            apiVersion: v1
            kind: ConfigMap
            metadata: {name: x}
            data:
              restore.yaml: |
                kind: RestoreConfig
                volumes:
                  - name: a
                    pvc: {namespace: n, name: a}
                    size: 1Gi
                    replicaz: 2
            """)
        #expect(found.count == 1)
        #expect(found.first?.path == "data.restore.yaml: volumes[0].replicaz")
        #expect(found.first?.line == 11)
        #expect(found.first?.hint == "did you mean 'replicas'?")
    }

    @Test func configMapWithoutTheKeyIsRefused() {
        let found = issues("apiVersion: v1\nkind: ConfigMap\ndata:\n  other.yaml: x\n")
        #expect(found.first?.path == "data.restore.yaml")
    }

    @Test func emptyVolumeListIsAllowed() throws {
        let config = try ConfigLoader.loadRestore("kind: RestoreConfig\nvolumes: []\n", file: "r.yaml")
        #expect(config.volumes.isEmpty)
    }

    @Test func kindMismatchWithExpectedIsReported() {
        let found = issues("kind: RestoreConfig\nvolumes: []\n", kind: .exercise)
        #expect(found.first?.path == "kind")
    }

    @Test func kindIsInferredFromKeys() throws {
        #expect(try ConfigLoader.load("volumes: []\n", file: "r.yaml").kind == .restore)
        #expect(try ConfigLoader.load("cluster: {name: dev}\n", file: "e.yaml").kind == .exercise)
    }
}

@Suite struct RestoreConfigYAMLTests {
    /// The simulated cluster's bootstrap writes a generated config into the Job's ConfigMap; the
    /// Job must read back exactly what was meant, every policy and non-default included.
    @Test func aRenderedConfigLoadsBackUnchanged() throws {
        let config = RestoreConfig(
            longhornNamespace: "storage", backupTarget: "offsite", syncTimeout: .seconds(90), restoreTimeout: .seconds(3_600), concurrency: 7,
            skipFlag: .init(namespace: "ops", configMap: "flags", key: "skip"), statusConfigMap: "restore-status",
            volumes: [
                .init(
                    name: "photos", pvcNamespace: "apps", pvcName: "photos", size: ByteQuantity(bytes: 128 << 20), replicas: 2,
                    storageClass: "longhorn-fast", fsType: .xfs, accessMode: .readWriteMany, restore: .latest, onMissingBackup: .fail),
                .init(
                    name: "pgdata", pvcNamespace: "db", pvcName: "data-postgres-0", size: ByteQuantity(bytes: 10 << 30), replicas: 3,
                    storageClass: "longhorn", fsType: .ext4, accessMode: .readWriteOncePod, restore: .backup("backup-0123"), onMissingBackup: .fresh),
                .init(
                    name: "wiki", pvcNamespace: "wiki", pvcName: "wiki", size: ByteQuantity(bytes: 1 << 30), replicas: 1,
                    storageClass: "longhorn", fsType: .ext4, accessMode: .readWriteOnce,
                    restore: .asOf(Date(timeIntervalSince1970: 1_795_000_000)), onMissingBackup: .fresh),
            ])
        let loaded = try ConfigLoader.loadRestore(config.yamlText(), file: "rendered.yaml")
        #expect(loaded == config, "\(config.yamlText())")
    }
}
