"""The Kubernetes manifests in deploy/: read as Kubernetes would, checked for what must hold."""
from __future__ import annotations

from pathlib import Path
from typing import Dict, List

import yaml

from tests.conftest import ROOT

DEPLOY = ROOT / "deploy"


def manifests() -> List[dict]:
    """Every object of every deploy/*.yaml (a file may hold several, separated by ---)."""
    found = []
    for path in sorted(DEPLOY.glob("*.yaml")):
        found += [doc for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc]
    return found


def of_kind(kind: str) -> Dict[str, dict]:
    return {doc["metadata"]["name"]: doc for doc in manifests() if doc.get("kind") == kind}


def pod_labels(deployment: str) -> Dict[str, str]:
    return of_kind("Deployment")[deployment]["spec"]["template"]["metadata"]["labels"]


def container_port(deployment: str) -> int:
    containers = of_kind("Deployment")[deployment]["spec"]["template"]["spec"]["containers"]
    return containers[0]["ports"][0]["containerPort"]


def test_only_the_rasa_servers_may_reach_the_action_server():
    """#16: the action server answered anyone; it has no authentication of its own."""
    actions, rasa = pod_labels("pathfinder-actions"), pod_labels("pathfinder-rasa")
    guarding = [policy for policy in of_kind("NetworkPolicy").values()
                if policy["spec"]["podSelector"].get("matchLabels", {}).items() <= actions.items()
                and policy["spec"]["podSelector"].get("matchLabels")]
    assert guarding, "no NetworkPolicy selects the action server's pods"
    for policy in guarding:
        spec = policy["spec"]
        assert "Ingress" in spec["policyTypes"]
        rules = spec.get("ingress", [])
        assert rules, "an Ingress policy without rules would let nothing in, not even Rasa"
        for rule in rules:
            sources = rule.get("from")
            assert sources, "a rule without 'from' lets every pod in"
            for source in sources:
                assert set(source) == {"podSelector"}, "only pods, no namespaces or address blocks"
                wanted = source["podSelector"].get("matchLabels", {})
                assert wanted and wanted.items() <= rasa.items(), f"{wanted} is not the Rasa servers' labels"
            assert [(p.get("protocol", "TCP"), p["port"]) for p in rule["ports"]] == [("TCP", container_port("pathfinder-actions"))]


def test_the_policy_is_part_of_the_deployment():
    kustomization = yaml.safe_load((DEPLOY / "kustomization.yaml").read_text(encoding="utf-8"))
    listed = set(kustomization["resources"])
    policies = {path.name for path in DEPLOY.glob("*.yaml")
                if any(doc and doc.get("kind") == "NetworkPolicy" for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")))}
    assert policies and policies <= listed, f"{policies - listed} not applied by `kubectl apply -k deploy/`"


def test_the_action_server_is_not_exposed_outside_the_cluster():
    service = of_kind("Service")["pathfinder-actions"]
    assert service["spec"].get("type", "ClusterIP") == "ClusterIP"
    assert not [doc for doc in manifests() if doc.get("kind") == "Ingress"
                and "pathfinder-actions" in yaml.safe_dump(doc)], "no Ingress routes to the action server"
