import DRCore
import Foundation
import KubeClient
import Testing

@testable import ClusterExercise

/// The destroy/rebuild/kubeconfig commands: argument arrays, exit statuses, captured output, and
/// commands that leave daemons behind (what a cluster rebuild typically does).
@Suite struct CommandRunnerTests {
    @Test func outputIsCapturedAndArgumentsAreNotShellText() async throws {
        let output = try await CommandRunner.output(["printf", "%s|%s", "a b", "$(echo no)"], purpose: "test")
        #expect(String(decoding: output, as: UTF8.self) == "a b|$(echo no)")
    }

    @Test func aFailingCommandIsAnInfrastructureErrorNamingIt() async {
        do {
            try await CommandRunner.run(["sh", "-c", "exit 7"], purpose: "destroy")
            Issue.record("expected a failure")
        } catch let error as DRError {
            #expect(error.status == .infrastructure)
            #expect(error.description.contains("destroy command"))
            #expect(error.description.contains("exited with status 7"))
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    /// A wrapper that traps SIGTERM (as Task does) around a child that ignores it: cancelling must
    /// stop both, TERM first and KILL after the grace period, and return only when they are gone.
    /// Task exits on SIGTERM at once; its child (terraform) ignores it. The call must not return
    /// until the child is gone too: the exercise may exit right after, and a SIGKILL left to a
    /// timer would never be sent.
    @Test func aCancelledCommandReturnsOnlyWhenItsWholeGroupIsGone() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("group-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let pidFile = folder.appendingPathComponent("child.pid").path
        // The wrapper keeps the default TERM action: it dies first, its child lives on.
        let script = """
            sh -c 'trap "" TERM; echo $$ > "$1"; exec sleep 300' child "$1" &
            wait
            """
        let run = Task { try await CommandRunner.run(["sh", "-c", script, "wrapper", pidFile], purpose: "destroy", grace: .milliseconds(300)) }
        let child: pid_t
        do { child = try await Self.pid(writtenTo: pidFile) } catch {
            run.cancel()
            throw error
        }
        run.cancel()
        _ = await run.result
        let aliveAtReturn = !Self.isDead(child)
        if aliveAtReturn { kill(child, SIGKILL) }
        #expect(!aliveAtReturn, "the child that ignores SIGTERM was still running when the call returned")
    }

    @Test func cancellingStopsTheWholeProcessGroup() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("group-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let pidFile = folder.appendingPathComponent("child.pid").path
        let script = """
            trap 'echo wrapper got TERM >&2' TERM
            sh -c 'trap "" TERM; echo $$ > "$1"; exec sleep 300' child "$1" &
            while kill -0 $! 2>/dev/null; do wait $!; done
            """
        let run = Task { try await CommandRunner.run(["sh", "-c", script, "wrapper", pidFile], purpose: "destroy", grace: .milliseconds(500)) }
        let child: pid_t
        do { child = try await Self.pid(writtenTo: pidFile) } catch {
            run.cancel()
            throw error
        }
        run.cancel()
        // Bounded: with only the wrapper signalled, the call would wait for `sleep 300`.
        let ended = await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                _ = await run.result
                return true
            }
            group.addTask {
                try? await Task.sleep(for: .seconds(90))
                return false
            }
            let first = await group.next() ?? false
            group.cancelAll()
            return first
        }
        #expect(ended, "the cancelled command returned within 90 s")
        if !ended { kill(child, SIGKILL) }
        #expect((try? await run.value) == nil, "a stopped command is not a success")
        #expect(Self.isDead(child), "the child that ignores SIGTERM was killed with the group")
    }

    /// Gone, or a zombie waiting for whoever adopted it to reap it (it runs no more).
    /// The pid a test command writes to `file` once it runs. Throws when it never does within a
    /// liveness bound: a 0 here would make `kill(0, …)` signal the test runner's own group.
    static func pid(writtenTo file: String) async throws -> pid_t {
        let deadline = ContinuousClock.now + .seconds(90)
        while ContinuousClock.now < deadline {
            if let pid = (try? String(contentsOfFile: file, encoding: .utf8)).flatMap({ pid_t($0.trimmingCharacters(in: .whitespacesAndNewlines)) }),
                pid > 0
            {
                return pid
            }
            try await Task.sleep(for: .milliseconds(25))
        }
        throw CocoaError(.fileReadNoSuchFile, userInfo: [NSFilePathErrorKey: file, NSLocalizedDescriptionKey: "no pid in \(file) after 90 s"])
    }

    static func isDead(_ pid: pid_t) -> Bool {
        if kill(pid, 0) == -1 { return errno == ESRCH }
        let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
        return stat.split(separator: ")").last?.split(separator: " ").first == "Z"
    }

    @Test func commandLinesAreShownWithoutTheirSecrets() {
        let argv = [
            "task", "tg:destroy-dev", "--", "-auto-approve", "--token", "s3cr3t-one", "--password=s3cr3t-two",
            "VAULT_TOKEN=s3cr3t-three", "https://user:s3cr3t-four@git.lan/repo", "ghp0123456789abcdefghijklmnopqrstuvwxyzAB",
            "PIDFILE=/tmp/x/stubborn.pid", "/home/operator/infrastructure/live/dev/nodes",
        ]
        let shown = CommandText.redacted(argv)
        for secret in ["s3cr3t-one", "s3cr3t-two", "s3cr3t-three", "s3cr3t-four", "ghp0123456789"] {
            #expect(!shown.contains(secret), "\(shown)")
        }
        #expect(shown.hasPrefix("task tg:destroy-dev -- -auto-approve --token *** --password=*** VAULT_TOKEN=***"), "\(shown)")
        #expect(shown.contains("PIDFILE=/tmp/x/stubborn.pid") && shown.contains("/home/operator/infrastructure/live/dev/nodes"), "paths stay readable")
    }

    @Test func aFailedCommandsErrorDoesNotCarryItsSecrets() async {
        do {
            try await CommandRunner.run(["sh", "-c", "exit 3", "--token", "s3cr3t-five"], purpose: "destroy")
            Issue.record("expected a failure")
        } catch {
            #expect(!"\(error)".contains("s3cr3t-five"), "\(error)")
        }
    }

    static let execKubeconfig = """
        apiVersion: v1
        kind: Config
        clusters: [{name: c, cluster: {server: "https://10.0.0.1:6443", certificate-authority-data: Zm9v}}]
        users: [{name: u, user: {exec: {apiVersion: client.authentication.k8s.io/v1, command: /bin/sh, args: ["-c", "id"], interactiveMode: Never}}}]
        contexts: [{name: x, context: {cluster: c, user: u}}]
        current-context: x

        """

    /// Whoever controls a kubeconfig command's output (or an SSM parameter) must not run code here.
    @Test func aFetchedKubeconfigThatWouldRunAProgramIsRefused() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("fetched-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let source = ExerciseConfig.KubeconfigSource.command(["printf", "%s", Self.execKubeconfig])
        do {
            _ = try await KubeconfigResolver.resolve(source, context: nil, workDirectory: folder)
            Issue.record("a kubeconfig with an exec plugin was accepted")
        } catch let error as DRError {
            #expect(error.status == .environment)
            #expect(error.description.contains("exec plugin sh"), "\(error)")
        }
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("kubeconfig").path), "nothing written")
        let allowed = try await KubeconfigResolver.resolve(source, context: nil, allowExec: ["sh"], workDirectory: folder)
        #expect(allowed.cluster.server.absoluteString == "https://10.0.0.1:6443")
        #expect(allowed.warnings.isEmpty)
    }

    /// The run goes on, but the operator and the report learn what the kubeconfig gives away.
    @Test(arguments: [
        ("server: \"http://10.0.0.1:8080\"", "plain http"),
        ("server: \"https://10.0.0.1:6443\", insecure-skip-tls-verify: true", "insecure-skip-tls-verify"),
        ("server: \"http://127.0.0.1:8001\"", nil),
    ])
    func aKubeconfigThatGivesCredentialsAwayIsWarnedAbout(cluster: String, warning: String?) async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("warned-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let text = """
            apiVersion: v1
            kind: Config
            clusters: [{name: c, cluster: {\(cluster)}}]
            users: [{name: u, user: {token: abc}}]
            contexts: [{name: x, context: {cluster: c, user: u}}]
            current-context: x

            """
        let resolved = try await KubeconfigResolver.resolve(.command(["printf", "%s", text]), context: nil, workDirectory: folder)
        if let warning {
            #expect(resolved.warnings.count == 1)
            #expect(resolved.warnings.first?.contains(warning) == true, "\(resolved.warnings)")
            #expect(resolved.warnings.allSatisfy { !$0.contains("abc") })
        } else {
            #expect(resolved.warnings.isEmpty, "kubectl proxy on this machine is fine: \(resolved.warnings)")
        }
    }

    @Test func terragruntIsToldNotToAsk() async throws {
        let output = try await CommandRunner.output(["sh", "-c", "echo $TG_NON_INTERACTIVE $TERRAGRUNT_NON_INTERACTIVE"], purpose: "test")
        #expect(String(decoding: output, as: UTF8.self) == "true true\n")
    }

    @Test func aMissingCommandIsAnEnvironmentError() async {
        do {
            try await CommandRunner.run(["no-such-command-longhorn-dr"], purpose: "rebuild")
            Issue.record("expected a failure")
        } catch let error as DRError {
            #expect(error.status == .environment)
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    /// The rebuild starts a server in the background and exits: the run must end with the script,
    /// while the daemon still runs. (If the runner waited for the daemon, the daemon would be gone
    /// by the time it returned: it only ends when killed, here by a watchdog after 120 s.)
    @Test func aCommandThatLeavesADaemonBehindStillFinishes() async throws {
        let marker = FileManager.default.temporaryDirectory.appendingPathComponent("lhdr-daemon-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: marker) }
        func daemon() -> pid_t? {
            Int32(String(decoding: (try? Data(contentsOf: marker)) ?? Data(), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
        }
        let aliveAfterRun = try await withThrowingTaskGroup(of: Bool?.self) { group in
            group.addTask {
                try await CommandRunner.run(
                    ["sh", "-c", "setsid sleep 600 >/dev/null 2>&1 </dev/null & echo $! > \"$1\"", "sh", marker.path], purpose: "rebuild")
                return daemon().map { kill($0, 0) == 0 }
            }
            group.addTask {
                try await Task.sleep(for: .seconds(120))
                if let pid = daemon() { kill(pid, SIGKILL) }
                return nil
            }
            defer { group.cancelAll() }
            while let result = try await group.next() {
                if let result { return result }
            }
            return false
        }
        #expect(aliveAfterRun, "the runner returned only after the daemon ended")
        if let pid = daemon() { kill(pid, SIGKILL) }
    }

    @Test func cancellingTheRunStopsTheCommand() async throws {
        let task = Task { try await CommandRunner.run(["sleep", "600"], purpose: "destroy") }
        try await Task.sleep(for: .milliseconds(300))
        task.cancel()
        guard case .failure(let error) = await task.result else {
            Issue.record("a killed command must not count as success")
            return
        }
        #expect("\(error)".contains("signal 15"), "\(error)")
    }
}
