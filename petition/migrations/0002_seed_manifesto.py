"""Loads the CAMELEON manifesto, in French and English, with its four proposals."""

from django.db import migrations

SLUG = "stop-cyberpedocriminalite"

PETITION = {'title_fr': 'STOP à la cyberpédocriminalité !',
 'title_en': 'STOP online child sexual exploitation!',
 'introduction_fr': 'A l’occasion du Forum de Paris sur la Paix*, le Président de la '
                    'République a annoncé le lancement d’une charte et d’un laboratoire '
                    'd’expérimentation de bonnes pratiques pour protéger les enfants sur '
                    'Internet. Des dispositifs de vérification de l’âge des internautes seront '
                    'mis en place par les plateformes et permettront notamment de réguler '
                    'l’exposition à la pornographie.\n'
                    '\n'
                    'C’est une avancée décisive mais la crise sanitaire ayant aggravé les '
                    'comportements à risques et la prédation en ligne, il est aussi urgent '
                    'd’agir pour augmenter les moyens de prévention et de lutte contre la '
                    'cyberpédocriminalité.\n'
                    '\n'
                    'En effet, malgré des évolutions législatives récentes**, trop d’enfants '
                    'et de jeunes sont exposés massivement et précocement à des contenus et '
                    'comportements choquants (sexting et grooming***, exploitation sexuelle, '
                    'incitation à la prostitution...) via des jeux, applications, réseaux '
                    'sociaux et dans le metaverse.\n'
                    '\n'
                    'La France occupe le rang de 4ème pays hébergeur de contenus pédocriminels '
                    'au niveau mondial****. Pourtant, notre pays ne compte que 25 enquêteurs '
                    'de haut niveau dédiés à la lutte contre l’exploitation sexuelle en ligne '
                    'des mineurs, dont 17 policiers et gendarmes à l’Office Central pour la '
                    'Répression des Violences aux Personnes (OCRVP) en charge de traiter 100 '
                    '000 signalements par an ! Face au fléau de la cyberpédocriminalité, '
                    'CAMELEON lance un appel à la mobilisation collective afin de mieux '
                    'protéger les enfants contre les violences sexuelles en ligne.\n'
                    '\n'
                    'Nous avons déployé une campagne de communication #LePartage dans les '
                    'médias et dans l’espace public pour éveiller les consciences et alerter '
                    'les parents sur les risques d’exposition de leurs enfants sur Internet. '
                    'Aujourd’hui nous avons besoin de vous pour interpeller les entreprises du '
                    'numérique, les parlementaires et le gouvernement. Notre manifeste vise à '
                    'rassembler citoyens et politiques autour de 4 propositions concrètes :',
 'introduction_en': 'At the Paris Peace Forum*, the President of the French Republic has '
                    'announced the launching of a charter and a laboratory for experiment of '
                    'good practices to protect children on Internet. Devices for verifying the '
                    'age of Internet users will be put in place by the platforms and will make '
                    'it possible particularly to regulate exposure to pornography.\n'
                    '\n'
                    'It is a major breakthrough but the health crisis has worsened the risky '
                    'behaviors and the online sex predation. It is therefore urgent to act in '
                    'order to increase the means of prevention and control against online '
                    'child abuse.\n'
                    '\n'
                    'Indeed, despite recent legislative developments**, too many young people '
                    'are massively and prematurely exposed to shocking content and behavior '
                    '(sexting and grooming***, sexual exploitation, incitement to '
                    'prostitution...) through games, apps, social media and in the Metaverse.\n'
                    '\n'
                    'France ranks as the 4th country hosting pedophile content worldwide****. '
                    'Our country has only 25 high level investigators dedicated to the fight '
                    'against online children sexual exploitation, among which 17 policemen and '
                    'gendarmes at the Central Office for the Repression of Violence against '
                    'Individuals (OCRVP) in charge of dealing with 100 000 reports per year! '
                    'Faced with the scourge of cyberpredocrime, CAMELEON calls for collective '
                    'action to improve the protection of children against online abuse and '
                    'sexual violence.\n'
                    '\n'
                    'We have deployed a communication campaign #LePartage in the media and in '
                    'the public space to raise awareness and alert parents on the risk of '
                    'Internet exposure for their children. We need you today to challenge '
                    'digital companies, the members of parliament and the government.\n'
                    '\n'
                    'Our manifesto aims to bring together citizens and politicians around 4 '
                    'concrete proposals:',
 'conclusion_fr': 'Un an après l’Appel à l’action du Président pour défendre les droits de '
                  'l’enfant dans l’environnement numérique, il est grand temps de passer aux '
                  'actes !\n'
                  '\n'
                  'Ensemble, demandons aux plateformes des engagements afin de faire '
                  'd’Internet un environnement plus sûr pour les enfants : révision des '
                  'conditions générales d’utilisation, prévention et modération, retrait '
                  'accéléré de contenus et blocage de comptes à caractère '
                  'pédopornographique... Ensemble, interpellons les députés et sénateurs pour '
                  'faire de la lutte contre la cyberpédocriminalité un sujet prioritaire dans '
                  'leur travail législatif et promouvoir le respect du droit à l’image des '
                  'enfants.\n'
                  '\n'
                  'Ensemble, demandons aux Ministres de considérer la protection de l’enfance '
                  'sur Internet comme une priorité transversale des politiques publiques et '
                  'd’allouer des moyens ambitieux en matière de prévention, sensibilisation et '
                  'répression.\n'
                  '\n'
                  'STOP à la cyberpédocriminalité ! Soutenez notre manifeste, signez et '
                  'partagez !\n'
                  '\n'
                  'Merci pour votre mobilisation à nos côtés. Si vous souhaitez en savoir plus '
                  'sur nos actions et nos revendications de plaidoyer, (re)découvrez notre '
                  'campagne #LePartage avec un spot TV, des affiches dans l’espace public, une '
                  'exposition photographique et des conseils de prévention : '
                  'https://www.cameleon-association.org/le-partage/',
 'conclusion_en': "One year after the President’s call for action to defend children's rights "
                  "in the digital environment, it's high time to act!\n"
                  '\n'
                  "Together, let's ask the platforms for more commitments to make the Internet "
                  'a safer environment for children: revision of general conditions of use, '
                  'prevention and moderation, accelerated removal of content and blocking of '
                  "child pornography accounts... Together, let's challenge deputies and "
                  'senators to make the fight against cyberpredocrime a priority subject in '
                  "their legislative work and to promote respect for children's image rights.\n"
                  '\n'
                  'Together, let’s ask the Ministers to consider the protection of children on '
                  'the Internet as a cross-cutting priority of public policies and to allocate '
                  'ambitious means in terms of prevention, awareness and repression.\n'
                  '\n'
                  'STOP cybercrime! Support our manifesto, sign and share!\n'
                  '\n'
                  'Thank you for your mobilization by our side. If you would like to know more '
                  'about our actions and our advocacy demands, (re)discover our #LePartage '
                  'campaign with a TV spot, posters in bus stations, metros and in the '
                  'streets, a photographic exhibition and prevention advice: '
                  'https://www.cameleon-association.org/le-partage/',
 'notes_fr': '* : Le Forum de Paris sur la Paix s’est tenu les 11 et 12 novembre 2022 et a '
             'ressemblé des chefs d’Etat, de gouvernements, et des acteurs majeurs de la '
             'société civile pour favoriser une coopération internationale notamment sur le '
             'thème “Garantir un monde numérique plus éthique et plus sûr.\n'
             '**: loi du 30 juillet 2020 qui permet de poursuivre les viols commandités à '
             'distance (live-streaming), loi du 21 avril 2021 créant le délit de sextorsion\n'
             '***: technique d’approche de pédocriminels pour mettre en confiance des enfants '
             'afin d’obtenir des images ou vidéos à caractère sexuel voire organiser une '
             'rencontre et les agresser\n'
             '**** : Point de Contact, 2021',
 'notes_en': '*: The Paris Peace Forum was held on November 11 and 12, 2022 and brought '
             'together Heads of State, Government, and major players in civil society to '
             'promote international cooperation, particularly on the theme “Guaranteeing a '
             'more ethical and secure digital world.\n'
             '**: Law of July 30, 2020 which allows commissioned rapes to be prosecuted '
             'remotely (live-streaming), law of April 21, 2021 creating the offense of '
             'sextortion\n'
             "***: Approach technique for child criminals to gain children's confidence in "
             'order to obtain images or videos of a sexual nature or even organize a meeting '
             'and assault them\n'
             '****: Point of Contact, 2021',
 'about_fr': 'Fondée en 1997 par Laurence Ligier, CAMELEON est une association de solidarité '
             'internationale qui défend les droits de l’Enfant et lutte depuis 25 ans contre '
             'les violences sexuelles sur mineurs en France et aux Philippines (en particulier '
             'l’inceste et la cyberpédocriminalité). https://www.cameleon-association.org/\n'
             '\n'
             'Contacts : Laurence Ligier : Directrice et Fondatrice\n'
             'Charlotte Pietri : Directrice des Opérations\n'
             'Socheata Sim : Responsable de la Mission Sociale France',
 'about_en': 'Founded in 1997 by Laurence Ligier, CAMELEON is a non-profit organization which '
             'defends children’s rights and has been fighting for 25 years against sexual '
             'violence against youngsters in France and the Philippines.\n'
             '\n'
             'Visit our website: https://www.cameleon-association.org/\n'
             '\n'
             'Contacts:\n'
             'Laurence Ligier: Director and Founder\n'
             'Charlotte Pietri: Director of Operations\n'
             'Socheata Sim: Head of the Social Mission France'}

PROPOSALS = [('Mener une campagne de sensibilisation nationale sur la cyberpédocriminalité à destination '
  'des jeunes, des parents et du grand public',
  'Conduct a national awareness campaign on cyberpredocrime dedicated to young people, parents '
  'and general public.'),
 ('Augmenter les moyens des enquêteurs spécialisés contre la cyberpédocriminalité et renforcer '
  'la coopération internationale entre pays (par exemple : en cas de viol commandité en direct '
  'à l’étranger)',
  'Increase the resources of specialized investigators in child abuse and reinforce '
  'international cooperation between countries (for example: in case of rape ordered directly '
  'in a foreign country)'),
 ('Rendre obligatoire sur les plateformes la présence de référents formés sur les '
  'cyberviolences et lutter contre l’exposition à la pornographie, l’exploitation sexuelle en '
  'ligne des mineurs ou son incitation avec des outils de contrôle renforcés',
  'Make the presence of trained referents mandatory on internet platforms in online child '
  'abuse and fight against pornographic exposure, online sexual exploitation of underage '
  'children or its incitement with reinforced control tools.'),
 ('Améliorer la législation en matière de droit à l’image et de droit à la vie privée des '
  'enfants',
  'Improve the legislation on children’s image rights and privacy rights.')]


def load_manifesto(apps, schema_editor):
    Petition = apps.get_model("petition", "Petition")
    Proposal = apps.get_model("petition", "Proposal")
    if Petition.objects.filter(slug=SLUG).exists():
        return
    petition = Petition.objects.create(
        slug=SLUG,
        goal=100_000,
        title=PETITION["title_fr"],
        introduction=PETITION["introduction_fr"],
        conclusion=PETITION["conclusion_fr"],
        notes=PETITION["notes_fr"],
        about=PETITION["about_fr"],
        **PETITION,
    )
    for position, (text_fr, text_en) in enumerate(PROPOSALS, start=1):
        Proposal.objects.create(
            petition=petition, position=position, text=text_fr, text_fr=text_fr, text_en=text_en
        )


def unload_manifesto(apps, schema_editor):
    Petition = apps.get_model("petition", "Petition")
    Petition.objects.filter(slug=SLUG, signatures__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("petition", "0001_initial")]

    operations = [migrations.RunPython(load_manifesto, unload_manifesto)]
