import CLITestSupport
import Foundation
import Testing

/// `longhorn-dr exercise --simulate` as a process: PASS when the data comes back, FAIL (with the
/// right exit code) for every way it can not come back. A DR tool that says PASS on a broken
/// backup is worse than none.
@Suite struct ExerciseSimulateTests {
    static func run(_ arguments: [String]) async throws -> (CLIProcess.Result, URL) {
        let state = FileManager.default.temporaryDirectory.appendingPathComponent("lhdr-e2e-state-\(UUID().uuidString)")
        let result = try await CLIProcess.run(["exercise", "--simulate"] + arguments, environment: ["XDG_STATE_HOME": state.path])
        return (result, state)
    }

    @Test func passesAndWritesEveryReport() async throws {
        let (result, state) = try await Self.run([])
        defer { try? FileManager.default.removeItem(at: state) }
        #expect(result.status == 0, "stderr: \(result.stderr.suffix(3000))")
        #expect(result.stdout.contains(": PASS"))
        #expect(!result.stdout.contains("forensics:"), "a PASS leaves no forensics bundle")
        #expect(result.stdout.contains("sentinel matches byte for byte"))
        let reports = (try? FileManager.default.contentsOfDirectory(atPath: state.appendingPathComponent("longhorn-dr/reports").path)) ?? []
        #expect(reports.contains { $0.hasSuffix(".json") } && reports.contains { $0.hasSuffix(".junit.xml") } && reports.contains { $0.hasSuffix(".md") })
        let journal = state.appendingPathComponent("longhorn-dr/exercise-sim-simulated.journal.json")
        let mode = (try FileManager.default.attributesOfItem(atPath: journal.path)[.posixPermissions] as? NSNumber)?.intValue
        #expect(mode == 0o600, "the journal is private to its owner")
    }

    @Test func reportDirPutsTheReportsWhereItSays() async throws {
        let reportDir = FileManager.default.temporaryDirectory.appendingPathComponent("lhdr-e2e-reports-\(UUID().uuidString)")
        let (result, state) = try await Self.run(["--report-dir", reportDir.path])
        defer {
            try? FileManager.default.removeItem(at: state)
            try? FileManager.default.removeItem(at: reportDir)
        }
        #expect(result.status == 0, "stderr: \(result.stderr.suffix(3000))")
        let reports = (try? FileManager.default.contentsOfDirectory(atPath: reportDir.path)) ?? []
        #expect(reports.contains { $0.hasSuffix(".json") } && reports.contains { $0.hasSuffix(".md") }, "\(reports)")
        let defaultFolder = state.appendingPathComponent("longhorn-dr/reports").path
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: defaultFolder)) ?? []).isEmpty, "nothing in the default folder")
    }

    @Test(arguments: [
        // The bootstrap's status says "fresh": the rebuild proof fails before verify reads anything.
        ("skip-restore", Int32(1), "wait-ready"),
        ("restore-fault", Int32(4), "wait-ready"),
        ("backup-error", Int32(4), "backup"),
        ("corrupt-block", Int32(4), "verify-backup-in-store"),
        // The backup completes and every block verifies, but the sentinel is not in it.
        ("stale-snapshot", Int32(1), "verify-backup-in-store"),
    ])
    func failsWhenTheDataDoesNotComeBack(fault: String, status: Int32, phase: String) async throws {
        let (result, state) = try await Self.run(["--simulate-fault", fault])
        defer { try? FileManager.default.removeItem(at: state) }
        #expect(result.status == status, "stdout: \(result.stdout.suffix(2000))")
        #expect(result.stdout.contains(": FAIL"))
        #expect(result.stdout.contains("  FAIL \(phase) "), "\(result.stdout)")
        if fault == "restore-fault" {
            // The Job's second attempt finds the volume the faulted restore left: it must fail
            // too, never keep it and open the gate (it did keep it before settleExisting).
            #expect(result.stderr.contains("exists from a restore that failed"), "\(result.stderr.suffix(3000))")
            #expect(result.stderr.contains("the gate stays shut"))
        }
        if ["backup-error", "corrupt-block", "stale-snapshot"].contains(fault) {
            #expect(!result.stdout.contains("ok   destroy"), "nothing is destroyed on the strength of a bad backup")
        }
        try Self.expectForensics(result: result, state: state, fault: fault)
    }

    /// A run that did not PASS leaves a bundle beside its reports, named in the report: the
    /// journal, the cluster's Events and objects, the restore Job's log; no Secret, private files.
    static func expectForensics(result: CLIProcess.Result, state: URL, fault: String) throws {
        let reports = state.appendingPathComponent("longhorn-dr/reports")
        let bundles = ((try? FileManager.default.contentsOfDirectory(atPath: reports.path)) ?? []).filter { $0.hasSuffix("-forensics") }
        let name = try #require(bundles.first, "no forensics bundle in \(reports.path); stdout: \(result.stdout.suffix(1500))")
        let bundle = reports.appendingPathComponent(name)
        #expect(result.stdout.contains("forensics: \(bundle.path)"), "the console report names the bundle")
        let files = try FileManager.default.contentsOfDirectory(atPath: bundle.path)
        for file in ["README.txt", "journal.json", "events.json", "longhorn-volumes.json", "longhorn-backups.json", "persistentvolumes.json"] {
            #expect(files.contains(file), "\(file) missing from \(files.sorted())")
        }
        let folderMode = (try FileManager.default.attributesOfItem(atPath: bundle.path)[.posixPermissions] as? NSNumber)?.intValue
        #expect(folderMode == 0o700)
        var everything = ""
        for file in files {
            let mode = (try FileManager.default.attributesOfItem(atPath: bundle.appendingPathComponent(file).path)[.posixPermissions] as? NSNumber)?.intValue
            #expect(mode == 0o600, "\(file) is readable by others")
            everything += (try? String(contentsOf: bundle.appendingPathComponent(file), encoding: .utf8)) ?? ""
        }
        #expect(!everything.contains("\"kind\" : \"Secret\"") && !everything.contains("\"kind\":\"Secret\""), "a Secret in the bundle")
        #expect(!everything.contains("managedFields"))
        if fault == "restore-fault" {
            let log = try #require(files.first { $0.hasPrefix("restore-job-") && $0.hasSuffix(".log") }, "no restore Job log in \(files.sorted())")
            let text = try String(contentsOf: bundle.appendingPathComponent(log), encoding: .utf8)
            #expect(text.contains("exists from a restore that failed") || text.contains("RestoreFailure") || text.contains("faulted"), "\(text.suffix(1000))")
        }
    }

    /// Two workloads in two namespaces: each volume gets its own sentinel, backup, restore and
    /// verdict; a volume that comes back wrong FAILs alone.
    @Test(arguments: [nil, "damage-one-volume"])
    func severalVolumesPassAndFailEachOnItsOwn(fault: String?) async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("lhdr-multi-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let config = folder.appendingPathComponent("exercise.yaml")
        try Data(
            """
            kind: ExerciseConfig
            cluster: {name: sim-multi}
            workloads:
              - {namespace: apps, deployment: photos, pvc: photos, size: 128Mi}
              - {namespace: db, deployment: postgres, pvc: pgdata, size: 128Mi}
            """.utf8
        ).write(to: config)
        let result = try await CLIProcess.run(
            ["exercise", "--simulate", "--config", config.path] + (fault.map { ["--simulate-fault", $0] } ?? []),
            environment: ["XDG_STATE_HOME": folder.appendingPathComponent("state").path])
        if fault == nil {
            #expect(result.status == 0, "\(result.stdout.suffix(3000)) \(result.stderr.suffix(2000))")
            for volume in ["photos", "pgdata"] {
                #expect(result.stdout.contains("volume \(volume): PASS  backup "), "\(result.stdout)")
            }
        } else {
            #expect(result.status == 1, "\(result.stdout.suffix(3000))")
            #expect(result.stdout.contains("volume photos: PASS"), "\(result.stdout)")
            #expect(result.stdout.contains("volume pgdata: FAIL"), "\(result.stdout)")
            #expect(result.stdout.contains("1 of 2 volumes failed: pgdata:"), "\(result.stdout)")
        }
    }

    /// The config's `metrics` and `notify` outputs, delivered to a real HTTP server on loopback.
    static func deliveryConfig(_ folder: URL, port: Int) throws -> URL {
        let config = folder.appendingPathComponent("exercise.yaml")
        try Data(
            """
            kind: ExerciseConfig
            cluster: {name: sim-notify}
            workload: {size: 256Mi}
            metrics:
              textfile: \(folder.path)/dr.prom
              pushgateway: http://127.0.0.1:\(port)
            notify:
              webhook: {urlFromEnv: DR_TEST_WEBHOOK}
              discord: {urlFile: \(folder.path)/discord-url}
            """.utf8
        ).write(to: config)
        // As a mounted Secret holds it: one line.
        try Data("http://127.0.0.1:\(port)/api/webhooks/42/discord-secret\n".utf8).write(to: folder.appendingPathComponent("discord-url"))
        return config
    }

    /// An Alertmanager CA file that holds no certificate stops the run at preflight (exit 3),
    /// before anything is destroyed, naming the file: not after the rebuild, at wait-ready.
    @Test func aBadAlertmanagerCAFileStopsTheRunAtPreflight() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("lhdr-am-ca-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let notPEM = folder.appendingPathComponent("ca.pem")
        try Data("not a certificate\n".utf8).write(to: notPEM)
        let config = folder.appendingPathComponent("exercise.yaml")
        try Data(
            """
            kind: ExerciseConfig
            cluster: {name: sim-ca}
            alertmanager:
              url: https://alertmanager.example:9093
              caFile: \(notPEM.path)
            """.utf8
        ).write(to: config)
        let result = try await CLIProcess.run(
            ["exercise", "--simulate", "--config", config.path], environment: ["XDG_STATE_HOME": folder.appendingPathComponent("state").path])
        let output = result.stdout + result.stderr
        #expect(result.status == 3, "\(output.suffix(2000))")
        #expect(output.contains("FAIL preflight"), "\(output.suffix(2000))")
        #expect(output.contains("alertmanager.caFile \(notPEM.path)"), "\(output.suffix(2000))")
        #expect(!output.contains("▶ destroy"), "nothing destroyed")
    }

    @Test func deliversMetricsAndTheNotificationOfAPass() async throws {
        let server = try await RecordingHTTPServer()
        defer { server.stop() }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("lhdr-deliver-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let config = try Self.deliveryConfig(folder, port: server.port)
        let state = folder.appendingPathComponent("state")
        let result = try await CLIProcess.run(
            ["exercise", "--simulate", "--config", config.path],
            environment: ["XDG_STATE_HOME": state.path, "DR_TEST_WEBHOOK": "http://127.0.0.1:\(server.port)/hooks/T0/secret"])
        #expect(result.status == 0, "\(result.stderr.suffix(2000))")
        let prom = (try? String(contentsOf: folder.appendingPathComponent("dr.prom"), encoding: .utf8)) ?? ""
        #expect(prom.contains("longhorn_dr_exercise_success{cluster=\"sim-notify\"} 1"), "\(prom)")
        #expect(prom.contains("longhorn_dr_exercise_rto_seconds{cluster=\"sim-notify\"}"))
        #expect(prom.contains("longhorn_dr_exercise_phase_duration_seconds{cluster=\"sim-notify\",phase=\"verify\"}"))
        let requests = server.requests
        let push = requests.first { $0.method == "PUT" }
        // job "longhorn_dr_exercise", cluster "sim-notify", base64url encoded.
        #expect(push?.path == "/metrics/job@base64/bG9uZ2hvcm5fZHJfZXhlcmNpc2U/cluster@base64/c2ltLW5vdGlmeQ")
        #expect(push?.body == prom, "the Pushgateway gets what the textfile holds")
        let hook = requests.first { $0.method == "POST" && $0.path.hasPrefix("/hooks/") }
        #expect(hook?.path == "/hooks/T0/secret")
        #expect(hook?.contentType == "application/json")
        let body = try JSONSerialization.jsonObject(with: Data((hook?.body ?? "{}").utf8)) as? [String: Any]
        #expect(body?["verdict"] as? String == "PASS")
        #expect((body?["text"] as? String)?.contains("sim-notify: PASS") == true)
        #expect(!result.stderr.contains("/hooks/T0/secret"), "the webhook URL is a secret: never logged")
        let discord = requests.first { $0.path == "/api/webhooks/42/discord-secret" }
        let message = try JSONSerialization.jsonObject(with: Data((discord?.body ?? "{}").utf8)) as? [String: Any]
        let embed = try #require((message?["embeds"] as? [[String: Any]])?.first, "\(requests.map(\.path))")
        #expect(embed["title"] as? String == "DR exercise PASS · cluster sim-notify")
        #expect(embed["color"] as? Int == 0x2ECC71)
        let fields = (embed["fields"] as? [[String: Any]] ?? []).compactMap { field in (field["name"] as? String).map { ($0, field["value"] as? String ?? "") }
        }
        #expect(fields.map(\.0) == ["RTO", "RPO", "Scheduled RPO", "Duration", "Volumes", "Report"], "\(fields)")
        #expect(fields.first { $0.0 == "Volumes" }?.1.hasPrefix("PASS ") == true, "\(fields)")
        #expect(fields.first { $0.0 == "Report" }?.1.contains(state.path) == true, "the report files written: \(fields)")
        #expect(result.stderr.contains("notified notify.discord (from \(folder.path)/discord-url)"), "\(result.stderr.suffix(1500))")
        #expect(!result.stderr.contains("discord-secret"))
    }

    @Test func aFailIsNotifiedAndAFailedDeliveryIsAWarningThatKeepsTheVerdict() async throws {
        let server = try await RecordingHTTPServer()
        defer { server.stop() }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("lhdr-deliver-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let config = try Self.deliveryConfig(folder, port: server.port)
        let result = try await CLIProcess.run(
            ["exercise", "--simulate", "--config", config.path, "--simulate-fault", "backup-error"],
            environment: [
                "XDG_STATE_HOME": folder.appendingPathComponent("state").path,
                "DR_TEST_WEBHOOK": "http://127.0.0.1:\(server.port)/fail/T0/secret",
            ])
        #expect(result.status == 4, "the run's own verdict, not the delivery's")
        let prom = (try? String(contentsOf: folder.appendingPathComponent("dr.prom"), encoding: .utf8)) ?? ""
        #expect(prom.contains("longhorn_dr_exercise_success{cluster=\"sim-notify\"} 0"), "\(prom)")
        let hook = server.requests.first { $0.method == "POST" && $0.path.hasPrefix("/fail/") }
        #expect(hook?.body.contains("\"verdict\":\"FAIL\"") == true)
        let discord = server.requests.first { $0.path.hasPrefix("/api/webhooks/") }
        #expect(discord?.body.contains("\"title\":\"DR exercise FAIL · cluster sim-notify\"") == true, "\(discord?.body ?? "no Discord message")")
        #expect(discord?.body.contains("\"name\":\"Failed phase\"") == true, "\(discord?.body ?? "")")
        #expect(result.stderr.contains("warning: notify.webhook (from $DR_TEST_WEBHOOK): answered HTTP 500"), "\(result.stderr.suffix(1500))")
        #expect(!result.stderr.contains("/fail/T0/secret"))
    }

    @Test func aWebhookVariableThatIsNotSetIsAWarning() async throws {
        let server = try await RecordingHTTPServer()
        defer { server.stop() }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("lhdr-deliver-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let config = try Self.deliveryConfig(folder, port: server.port)
        let result = try await CLIProcess.run(
            ["exercise", "--simulate", "--config", config.path, "--simulate-fault", "backup-error"],
            environment: ["XDG_STATE_HOME": folder.appendingPathComponent("state").path, "DR_TEST_WEBHOOK": ""])
        #expect(result.stderr.contains("warning: notify.webhook (from $DR_TEST_WEBHOOK): the environment variable is not set"), "\(result.stderr.suffix(1500))")
        #expect(server.requests.filter { $0.method == "POST" }.map(\.path) == ["/api/webhooks/42/discord-secret"], "only Discord, whose URL is set")
    }

    @Test func resumeIsRefusedForTheSimulatedCluster() async throws {
        let (result, state) = try await Self.run(["--resume"])
        defer { try? FileManager.default.removeItem(at: state) }
        #expect(result.status == 2)
    }
}
