email-sign-in-subject = Votre lien de connexion
email-sign-in-intro = Ouvrez ce lien pour vous connecter à votre portail partenaires. Il fonctionne une fois, pendant 15 minutes.
email-sign-in-button = Se connecter
email-sign-in-ignore = Si vous ne l’avez pas demandé, ignorez cet e-mail : personne ne peut se connecter sans le lien.
email-reminder-subject = Rappel : { $title }
email-reminder-intro = { $lead } vous demande de lire et de confirmer un message à connaître absolument :

chase-reminder-title = Rappel : { $title }
chase-correction-title = Corrigé : { $title }
chase-correction-intro = Ce message a été corrigé après son envoi. Merci de le relire et de confirmer le texte corrigé.
chase-lead-title = En attente chez { $partner } : { $title }
chase-lead-intro = { $count } de vos collègues n'ont pas encore confirmé. Veillez à ce qu'ils le fassent :
chase-state-reminded = relancé par { $channel }
chase-state-waiting = une relance par { $channel } partira pendant ses heures de travail
chase-state-failed = la relance par { $channel } a échoué : { $reason }
chase-state-unreachable = aucun canal ouvert pour le relancer ; seul le portail l'affiche
chase-state-not-yet = pas encore relancé

email-digest-subject = Votre résumé : { $count } nouveautés non lues
email-digest-intro = Ces { $count } messages vous attendent, non lus, dans votre portail partenaire :
email-digest-change = Choisissez la fréquence de ce résumé dans vos préférences :
