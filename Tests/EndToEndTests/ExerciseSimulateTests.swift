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
        #expect(result.stdout.contains("sentinel matches byte for byte"))
        let reports = (try? FileManager.default.contentsOfDirectory(atPath: state.appendingPathComponent("longhorn-dr/reports").path)) ?? []
        #expect(reports.contains { $0.hasSuffix(".json") } && reports.contains { $0.hasSuffix(".junit.xml") } && reports.contains { $0.hasSuffix(".md") })
        let journal = state.appendingPathComponent("longhorn-dr/exercise-sim-simulated.journal.json")
        let mode = (try FileManager.default.attributesOfItem(atPath: journal.path)[.posixPermissions] as? NSNumber)?.intValue
        #expect(mode == 0o600, "the journal is private to its owner")
    }

    @Test(arguments: [
        ("skip-restore", Int32(1), "verify"),
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
        if ["backup-error", "corrupt-block", "stale-snapshot"].contains(fault) {
            #expect(!result.stdout.contains("ok   destroy"), "nothing is destroyed on the strength of a bad backup")
        }
    }

    @Test func resumeIsRefusedForTheSimulatedCluster() async throws {
        let (result, state) = try await Self.run(["--resume"])
        defer { try? FileManager.default.removeItem(at: state) }
        #expect(result.status == 2)
    }
}
