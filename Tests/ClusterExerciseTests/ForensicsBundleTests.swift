import Foundation
import KubeModels
import Testing

@testable import ClusterExercise

/// What the forensics bundle scrubs before anything is written: nothing that could carry a
/// secret leaves the cluster through it.
@Suite struct ForensicsBundleTests {
    @Test func envValuesWithSecretNamesAndManagedFieldsAreRemoved() {
        let pod: JSONValue = [
            "kind": "Pod",
            "metadata": [
                "name": "p", "managedFields": [["manager": "kubectl"]],
                "annotations": ["kubectl.kubernetes.io/last-applied-configuration": "{\"password\":\"x\"}", "keep": "yes"],
            ],
            "spec": [
                "containers": [
                    [
                        "name": "c",
                        "env": [
                            ["name": "AWS_SECRET_ACCESS_KEY", "value": "hunter2"], ["name": "API_TOKEN", "value": "abc"],
                            ["name": "LOG_LEVEL", "value": "debug"], ["name": "DB_PASSWORD", "valueFrom": ["secretKeyRef": ["name": "db", "key": "pw"]]],
                        ],
                    ]
                ]
            ],
        ]
        let scrubbed = ForensicsBundle.scrubbed(pod)
        let text = scrubbed.jsonText
        #expect(!text.contains("hunter2") && !text.contains("\"abc\"") && !text.contains("managedFields") && !text.contains("last-applied"))
        #expect(text.contains("\"debug\"") && text.contains("\"keep\":\"yes\""))
        // A reference to a Secret is only a name: kept, it helps.
        #expect(text.contains("secretKeyRef"))
    }

    @Test func logsLoseTokensAndSecretAssignmentsButKeepTheRest() {
        let log = """
            ok   dr-exercise-data: restore from backup-1a2b3c (data 2h old) in 41s
            curl -H Authorization: Bearer s3cr3t-t0ken https://api
            AWS_SECRET_ACCESS_KEY=hunter2 token=xyz name=volume
            eyJhbGciOiJSUzI1NiIsImtpZCI6IjEyMyJ9.eyJzdWIiOiJzeXN0ZW0ifQ.c2lnbmF0dXJl
            """
        let scrubbed = ForensicsBundle.scrubbed(log: log)
        #expect(scrubbed.contains("ok   dr-exercise-data: restore from backup-1a2b3c (data 2h old) in 41s"))
        #expect(!scrubbed.contains("s3cr3t-t0ken") && !scrubbed.contains("hunter2") && !scrubbed.contains("xyz") && !scrubbed.contains("eyJhbGci"))
        #expect(scrubbed.contains("AWS_SECRET_ACCESS_KEY=***") && scrubbed.contains("name=volume"))
    }
}
