import DRCore
import Foundation
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

    /// The rebuild starts a server in the background and exits: the run must end with the script.
    @Test func aCommandThatLeavesADaemonBehindStillFinishes() async throws {
        let marker = FileManager.default.temporaryDirectory.appendingPathComponent("lhdr-daemon-\(UUID().uuidString)")
        let started = ContinuousClock.now
        try await CommandRunner.run(["sh", "-c", "setsid sleep 30 >/dev/null 2>&1 </dev/null & echo $! > \"$1\"", "sh", marker.path], purpose: "rebuild")
        #expect(ContinuousClock.now - started < .seconds(20), "the runner waited for the daemon, not for the script")
        if let pid = Int32(String(decoding: (try? Data(contentsOf: marker)) ?? Data(), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)) {
            kill(pid, SIGTERM)
        }
        try? FileManager.default.removeItem(at: marker)
    }

    @Test func cancellingTheRunStopsTheCommand() async throws {
        let task = Task { try await CommandRunner.run(["sleep", "30"], purpose: "destroy") }
        try await Task.sleep(for: .milliseconds(300))
        let started = ContinuousClock.now
        task.cancel()
        let result = await task.result
        #expect(ContinuousClock.now - started < .seconds(10))
        guard case .failure(let error) = result else {
            Issue.record("a killed command must not count as success")
            return
        }
        #expect("\(error)".contains("signal 15"))
    }
}
