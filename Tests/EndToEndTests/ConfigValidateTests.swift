import CLITestSupport
import Foundation
import Testing

/// `longhorn-dr config validate` as a process: every example passes, every broken config fails
/// with exit code 2 and names the field.
@Suite struct ConfigValidateTests {
    static let exercise = "apiVersion: longhorn-dr/v1\nkind: ExerciseConfig\n"
    static let restore = "apiVersion: longhorn-dr/v1\nkind: RestoreConfig\n"
    static let volume = "  - name: app-data\n    pvc: {namespace: app, name: app-data}\n    size: 1Gi\n"

    struct Broken: CustomTestStringConvertible, Sendable {
        var name: String
        var yaml: String
        var path: String
        var line: Int?
        var testDescription: String { name }
    }

    static let broken: [Broken] = [
        Broken(name: "malformed YAML", yaml: exercise + "cluster: {name: dev\n", path: "", line: 4),
        Broken(name: "duplicate key", yaml: exercise + "cluster:\n  name: dev\n  name: prod\n", path: "", line: nil),
        Broken(name: "unknown top-level key", yaml: exercise + "clustr:\n  name: dev\n", path: "clustr", line: 3),
        Broken(name: "unknown kind", yaml: "apiVersion: longhorn-dr/v1\nkind: ExcerciseConfig\ncluster: {name: dev}\n", path: "kind", line: 2),
        Broken(name: "missing cluster name", yaml: exercise + "cluster:\n  context: admin@dev\n", path: "cluster.name", line: nil),
        Broken(name: "uppercase cluster name", yaml: exercise + "cluster: {name: Dev}\n", path: "cluster.name", line: 3),
        Broken(name: "empty destroy command", yaml: exercise + "cluster:\n  name: dev\n  destroy: []\n", path: "cluster.destroy", line: 5),
        Broken(name: "destroy as a shell string", yaml: exercise + "cluster:\n  name: dev\n  destroy: task tg:destroy-dev\n", path: "cluster.destroy", line: 5),
        Broken(
            name: "two kubeconfig sources", yaml: exercise + "cluster:\n  name: dev\n  kubeconfig:\n    file: a.yaml\n    ssm: {parameter: /x/kubeconfig}\n",
            path: "cluster.kubeconfig", line: nil),
        Broken(name: "wrong type for size", yaml: exercise + "cluster: {name: dev}\nworkload:\n  size: [1Gi]\n", path: "workload.size", line: 5),
        Broken(name: "invalid namespace", yaml: exercise + "cluster: {name: dev}\nworkload:\n  namespace: DR_Exercise\n", path: "workload.namespace", line: 5),
        Broken(name: "relative mount path", yaml: exercise + "cluster: {name: dev}\nworkload:\n  mountPath: data\n", path: "workload.mountPath", line: 5),
        Broken(name: "absolute sentinel path", yaml: exercise + "cluster: {name: dev}\nsentinel:\n  file: /etc/passwd\n", path: "sentinel.file", line: 5),
        Broken(name: "zero total budget", yaml: exercise + "cluster: {name: dev}\nbudgets:\n  total: 0s\n", path: "budgets.total", line: 5),
        Broken(
            name: "negative phase budget", yaml: exercise + "cluster: {name: dev}\nbudgets:\n  phases:\n    backup: -5m\n", path: "budgets.phases.backup",
            line: 6),
        Broken(
            name: "phase budget over total", yaml: exercise + "cluster: {name: dev}\nbudgets:\n  total: 30m\n  phases:\n    rebuild: 40m\n",
            path: "budgets.phases.rebuild", line: 7),
        Broken(name: "unknown phase", yaml: exercise + "cluster: {name: dev}\nbudgets:\n  phases:\n    restore: 5m\n", path: "budgets.phases.restore", line: 6),
        Broken(
            name: "webhook not a URL", yaml: exercise + "cluster: {name: dev}\nnotify:\n  webhook: {url: hooks.example}\n", path: "notify.webhook.url", line: 5),
        Broken(
            name: "clear-text webhook to another machine",
            yaml: exercise + "cluster: {name: dev}\nnotify:\n  webhook: {url: \"http://hooks.example/T0/secret-path\"}\n", path: "notify.webhook.url", line: 5),
        Broken(
            name: "clear-text pushgateway to another machine", yaml: exercise + "cluster: {name: dev}\nmetrics:\n  pushgateway: http://pushgateway.lan:9091\n",
            path: "metrics.pushgateway", line: 5),
        Broken(name: "unknown report format", yaml: exercise + "cluster: {name: dev}\nreport:\n  formats: [json, html]\n", path: "report.formats[1]", line: 5),
        Broken(name: "duration without unit", yaml: restore + "syncTimeout: 600\nvolumes:\n" + volume, path: "syncTimeout", line: 3),
        Broken(name: "volumes missing", yaml: restore + "backupTarget: default\n", path: "volumes", line: nil),
        Broken(
            name: "duplicate volume name",
            yaml: restore + "volumes:\n" + volume + "  - name: app-data\n    pvc: {namespace: app, name: other}\n    size: 1Gi\n", path: "volumes[1].name",
            line: 7),
        Broken(
            name: "PVC declared twice", yaml: restore + "volumes:\n" + volume + "  - name: other\n    pvc: {namespace: app, name: app-data}\n    size: 1Gi\n",
            path: "volumes[1].pvc", line: 8),
        Broken(
            name: "volume name over 40 characters",
            yaml: restore + "volumes:\n  - name: \(String(repeating: "a", count: 41))\n    pvc: {namespace: app, name: a}\n    size: 1Gi\n",
            path: "volumes[0].name", line: 4),
        Broken(name: "zero replicas", yaml: restore + "volumes:\n" + volume + "    replicas: 0\n", path: "volumes[0].replicas", line: 7),
        Broken(
            name: "unknown onMissingBackup", yaml: restore + "volumes:\n" + volume + "    onMissingBackup: skip\n", path: "volumes[0].onMissingBackup", line: 7),
        Broken(name: "bad as-of time", yaml: restore + "volumes:\n" + volume + "    restore: {asOf: yesterday}\n", path: "volumes[0].restore.asOf", line: 7),
        Broken(name: "Longhorn access mode spelling", yaml: restore + "volumes:\n" + volume + "    accessMode: rwo\n", path: "volumes[0].accessMode", line: 7),
        Broken(name: "unsupported fs type", yaml: restore + "volumes:\n" + volume + "    fsType: btrfs\n", path: "volumes[0].fsType", line: 7),
        Broken(name: "missing size", yaml: restore + "volumes:\n  - name: a\n    pvc: {namespace: app, name: a}\n", path: "volumes[0].size", line: nil),
    ]

    @Test func everyExampleIsValid() async throws {
        let examples = try FileManager.default.contentsOfDirectory(atPath: CLIProcess.packageRoot.appendingPathComponent("examples").path)
            .filter { $0.hasSuffix(".yaml") }.sorted()
        #expect(examples.count >= 4)
        let result = try await CLIProcess.run(["config", "validate"] + examples.map { "examples/\($0)" })
        #expect(result.status == 0, "stderr: \(result.stderr)")
        for example in examples {
            #expect(result.stdout.contains("examples/\(example): valid"))
        }
    }

    @Test(arguments: broken)
    func brokenConfigIsRejected(_ case_: Broken) async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("lhdr-config-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("broken.yaml")
        try Data(case_.yaml.utf8).write(to: file)

        let json = try await CLIProcess.run(["config", "validate", "--json", file.path])
        #expect(json.status == 2)
        let report = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        let files = report?["files"] as? [[String: Any]]
        let found = (files?.first?["issues"] as? [[String: Any]]) ?? []
        let match = found.first { ($0["path"] as? String) == case_.path }
        #expect(match != nil, "expected an issue at '\(case_.path)', got \(found)")
        if let line = case_.line {
            #expect(match?["line"] as? Int == line, "issue: \(String(describing: match))")
        }

        // The text form says the same on stderr, with the file name and the exit code 2.
        let text = try await CLIProcess.run(["config", "validate", file.path])
        #expect(text.status == 2)
        #expect(text.stderr.contains(file.path))
        if !case_.path.isEmpty { #expect(text.stderr.contains(case_.path)) }
        // A webhook URL is a secret: refusing it never repeats it.
        if case_.yaml.contains("secret-path") {
            #expect(!text.stderr.contains("secret-path") && !json.stdout.contains("secret-path"), "\(text.stderr)")
        }
    }

    @Test func missingFileIsAUsageError() async throws {
        let result = try await CLIProcess.run(["config", "validate", "does/not/exist.yaml"])
        #expect(result.status == 2)
        #expect(result.stderr.contains("does not exist"))
    }

    @Test func wrongKindFlagIsAUsageError() async throws {
        let result = try await CLIProcess.run(["config", "validate", "--kind", "restore", "examples/exercise.yaml"])
        #expect(result.status == 2)
        #expect(result.stderr.contains("kind"))
    }

    @Test func versionAndUsageExitCodes() async throws {
        let version = try await CLIProcess.run(["version"])
        #expect(version.status == 0)
        #expect(version.stdout.hasPrefix("longhorn-dr "))
        // libcrypto where it loads (Debian ships it here), the linked BoringSSL when asked.
        #expect(version.stdout.contains("sha512: OpenSSL libcrypto (libcrypto.so.3)"), "\(version.stdout)")
        let linked = try await CLIProcess.run(["version"], environment: ["LONGHORN_DR_SHA512": "boringssl"])
        #expect(linked.stdout.contains("sha512: BoringSSL (swift-crypto, linked)"), "\(linked.stdout)")
        let unknown = try await CLIProcess.run(["no-such-command"])
        #expect(unknown.status == 2)
        let help = try await CLIProcess.run(["--help"])
        #expect(help.status == 0)
    }
}
