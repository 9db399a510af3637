"""Order-taking (接单): campaigns, jobs, applications, direct offers, the escrowed order lifecycle, disputes,
messaging and reviews (design.md §4)."""
