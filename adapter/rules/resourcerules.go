package rules

import (
	"fmt"

	"github.com/hpa-engine/hpa-engine/adapter/config"
)

// RenderContainerQuery renders a resourceRules containerQuery (cpu or
// memory) for pods, as prometheus-adapter's resource metrics provider
// does: .Series empty, .LabelMatchers the namespace and the pods' matcher,
// .GroupBy the pod label then the containerLabel. It returns the query and
// the pod label, which names each sample's pod. mp is the query's Mapping
// (NewMapping(q.Resources, mapper)).
func RenderContainerQuery(q *config.ResourceQuery, mp *Mapping, namespace string, pods []string) (query, podLabel string, err error) {
	podLabel, err = mp.LabelForResource(podsResource)
	if err != nil {
		return "", "", err
	}
	nsLabel, err := mp.NamespaceLabel()
	if err != nil {
		return "", "", err
	}
	args, err := objectArgs("", podLabel, nsLabel, []string{q.ContainerLabel}, CustomQuery{Namespace: namespace, Names: pods})
	if err != nil {
		return "", "", err
	}
	if q.ContainerQuery == nil {
		return "", "", fmt.Errorf("%w: resourceRules has no containerQuery", ErrNoQuery)
	}
	query, err = execute("resourceRules containerQuery", q.ContainerQuery, args)
	return query, podLabel, err
}

// RenderNodeQuery renders a resourceRules nodeQuery for nodes: .Series
// empty, .LabelMatchers the nodes' matcher, .GroupBy the node label. It
// returns the query and the node label.
func RenderNodeQuery(q *config.ResourceQuery, mp *Mapping, nodes []string) (query, nodeLabel string, err error) {
	nodeLabel, err = mp.LabelForResource(nodesResource)
	if err != nil {
		return "", "", err
	}
	args, err := objectArgs("", nodeLabel, "", nil, CustomQuery{Names: nodes})
	if err != nil {
		return "", "", err
	}
	if q.NodeQuery == nil {
		return "", "", fmt.Errorf("%w: resourceRules has no nodeQuery", ErrNoQuery)
	}
	query, err = execute("resourceRules nodeQuery", q.NodeQuery, args)
	return query, nodeLabel, err
}
